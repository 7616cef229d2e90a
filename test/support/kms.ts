import { env } from "cloudflare:workers";
import { AwsClient } from "aws4fetch";
import type { Bindings } from "../../src/env";

/** The controls of the fake KMS (test/support/servers/fake-kms.ts), and the Worker's bindings pointed at it. */

export interface KmsTenant {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface KmsStats {
  calls: Record<"Sign" | "Verify" | "GetPublicKey", number>;
  succeeded: Record<"Sign" | "Verify" | "GetPublicKey", number>;
  errors: Record<string, number>;
}

async function kmsControlCall(method: string, path: string, body?: unknown): Promise<any> {
  const response = await fetch(new URL(path, env.TEST_KMS_ENDPOINT), {
    method,
    headers: { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`fake KMS ${path} answered ${response.status}: ${await response.text()}`);
  return response.json();
}

/** Fresh credentials on the fake KMS, with their own mode and counters. */
export const kmsTenant = (): Promise<KmsTenant> => kmsControlCall("POST", "/__tenants");

export const kmsStats = (tenant: KmsTenant): Promise<KmsStats> =>
  kmsControlCall("GET", `/__stats?accessKeyId=${encodeURIComponent(tenant.accessKeyId)}`);

export function kmsMode(
  tenant: KmsTenant,
  mode: "ok" | "throttle" | "down" | "destroy" | "slow" | "garbage",
  options: { operations?: ("Sign" | "Verify" | "GetPublicKey")[]; times?: number; delayMs?: number; body?: string } = {},
): Promise<unknown> {
  return kmsControlCall("POST", "/__control", { accessKeyId: tenant.accessKeyId, mode, ...options });
}

/**
 * A key-management call on the fake KMS (CreateKey, CreateAlias, UpdateAlias, …), SigV4-signed as
 * `tenant`, as scripts/ops/kms.ts makes them: how a test moves an alias between keys.
 */
export async function kmsManage(tenant: KmsTenant, operation: string, body: Record<string, unknown>): Promise<any> {
  const aws = new AwsClient({ ...tenant, service: "kms", region: env.AWS_REGION ?? "us-east-1", retries: 0 });
  const response = await aws.fetch(env.TEST_KMS_ENDPOINT, {
    method: "POST",
    headers: { "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": `TrentService.${operation}` },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`fake KMS ${operation} answered ${response.status}: ${await response.text()}`);
  return response.json();
}

/** The Worker's bindings with the KMS signer pointed at the fake KMS, as `tenant`. */
export function kmsBindings(tenant: KmsTenant, overrides: Partial<Bindings> = {}): Bindings {
  return {
    ...env,
    PQC_SIGNER: "kms",
    KMS_ENDPOINT: env.TEST_KMS_ENDPOINT,
    AWS_REGION: env.AWS_REGION ?? "us-east-1",
    KMS_PQC_KEY_ID: env.TEST_KMS_KEY_ID,
    AWS_ACCESS_KEY_ID: tenant.accessKeyId,
    AWS_SECRET_ACCESS_KEY: tenant.secretAccessKey,
    ...overrides,
  };
}
