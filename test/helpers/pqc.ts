import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { AwsClient } from "aws4fetch";
import { createApp } from "../../src/app";
import { nobleMlDsa65 } from "../../src/crypto/ml-dsa";
import type { Bindings } from "../../src/env";
import { akpThumbprint } from "../../src/pqc/akp";
import { PQC_AUDIENCE, PQC_TOKEN_TYP } from "../../src/pqc/token";
import {
  type ApiResponse,
  BASE_URL,
  base64url,
  forgeJwt,
  fromBase64url,
  login,
  randomIp,
  readResponse,
  registerUser,
  type SignedIn,
  testConfig,
  updateUser,
} from "./identity";

/**
 * Shared helpers for the PQC token tests: calling the Worker (or an app built with other bindings,
 * such as the KMS signer) with `request.cf`, signing tokens as the Worker would with the local
 * seed, mTLS certificates, and the controls of the fake KMS (test/kms/fake-kms.ts).
 */

export type Handler = (request: Request) => Promise<Response>;

/** The Worker under test, exactly as deployed (wrangler.toml + the test bindings, local signer). */
export const worker: Handler = (request) => exports.default.fetch(request);

/** The Worker's app with other bindings (e.g. the KMS signer); one execution context per request. */
export function appWith(bindings: Bindings): Handler {
  const app = createApp();
  return async (request) => {
    const ctx = createExecutionContext();
    const response = await app.fetch(request, bindings, ctx);
    await waitOnExecutionContext(ctx);
    return response;
  };
}

export interface CallOptions {
  body?: unknown;
  /** `Authorization: Bearer <token>`. */
  token?: string;
  /** `X-Heady-PQC-Token`. */
  pqc?: string;
  /** `X-API-Key`. */
  apiKey?: string;
  headers?: Record<string, string>;
  /** `request.cf`, e.g. `clientCertificate(...)`. */
  cf?: Record<string, unknown>;
  ip?: string;
  handler?: Handler;
}

/** One request to the Worker (or `options.handler`), parsed like identity.ts's `request`, plus `cf`. */
export async function call<T = any>(method: string, path: string, options: CallOptions = {}): Promise<ApiResponse<T>> {
  const headers = new Headers(options.headers);
  headers.set("CF-Connecting-IP", options.ip ?? randomIp());
  if (options.token !== undefined) headers.set("Authorization", `Bearer ${options.token}`);
  if (options.pqc !== undefined) headers.set("X-Heady-PQC-Token", options.pqc);
  if (options.apiKey !== undefined) headers.set("X-API-Key", options.apiKey);
  let body: string | undefined;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers.set("Content-Type", "application/json");
  }
  const init = { method, headers, body, ...(options.cf ? { cf: options.cf } : {}) } as RequestInit;
  return readResponse<T>(await (options.handler ?? worker)(new Request(new URL(path, BASE_URL), init)));
}

export const requestPqcToken = (body: { service: string; operation: string; reference?: boolean }, options: CallOptions = {}) =>
  call("POST", "/api/auth/request-pqc-token", { ...options, body });

export const verifyCall = (options: CallOptions) => call("GET", "/api/auth/verify", options);

export interface JwksKey {
  kid: string;
  kty: string;
  alg?: string;
  pub?: string;
  use?: string;
  [member: string]: unknown;
}

export async function jwks(handler?: Handler): Promise<JwksKey[]> {
  const response = await call<{ keys: JwksKey[] }>("GET", "/.well-known/jwks.json", { handler });
  if (response.status !== 200) throw new Error(`JWKS answered ${response.status}: ${response.text}`);
  return response.body.keys;
}

// --- people and keys --------------------------------------------------------------------------

/** A fresh account with the given role (set in D1; access tokens read the role at sign-in, so sign in again). */
export async function userWithRole(role: "guest" | "user" | "operator" | "admin"): Promise<SignedIn> {
  const account = await registerUser();
  if (role === "user") return account;
  await updateUser(account.userId, { role });
  return login(account.email, account.password);
}

/** Creates an API key for `owner` with these scopes (and role, default the route's) and returns the key itself. */
export async function apiKeyFor(owner: SignedIn, scopes: string[], role?: string): Promise<string> {
  const created = await call("POST", "/api/auth/api-keys", {
    token: owner.accessToken,
    body: { description: "pqc test key", scopes, role },
  });
  if (created.status !== 201) throw new Error(`API key creation answered ${created.status}: ${created.text}`);
  return created.body.key as string;
}

// --- mTLS ------------------------------------------------------------------------------------

/** A random SHA-256 certificate fingerprint, as Cloudflare reports it (64 hex digits). */
export function randomFingerprint(): string {
  return [...crypto.getRandomValues(new Uint8Array(32))].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** `request.cf` for a connection that presented a client certificate the edge verified. */
export function clientCertificate(fingerprintHex: string, verified = "SUCCESS"): Record<string, unknown> {
  return { tlsClientAuth: { certPresented: "1", certVerified: verified, certFingerprintSHA256: fingerprintHex } };
}

/** RFC 8705 `x5t#S256` of a certificate whose SHA-256 fingerprint is `fingerprintHex`. */
export function x5tS256(fingerprintHex: string): string {
  return base64url(Uint8Array.from(fingerprintHex.match(/../g)!.map((pair) => parseInt(pair, 16))));
}

// --- signing as the Worker does ----------------------------------------------------------------

export interface MlDsaTestKey {
  kid: string;
  publicKey: Uint8Array;
  sign(input: Uint8Array<ArrayBuffer>): Promise<Uint8Array>;
}

/** An ML-DSA-65 key from a seed (noble, independent of the Worker's WebCrypto path), `kid` = RFC 7638 thumbprint. */
export async function mlDsaKeyFromSeed(seed: Uint8Array): Promise<MlDsaTestKey> {
  const signer = await nobleMlDsa65.signerFromSeed(seed);
  return { kid: await akpThumbprint(signer.publicKey), publicKey: signer.publicKey, sign: (input) => signer.sign(input) };
}

let localKey: Promise<MlDsaTestKey> | undefined;
/** The Worker's local signing key (from `PQC_LOCAL_SEED`). */
export function workerLocalKey(): Promise<MlDsaTestKey> {
  localKey ??= mlDsaKeyFromSeed(fromBase64url(env.PQC_LOCAL_SEED!));
  return localKey;
}

/** The claims the Worker puts into a PQC token for `service`/`operation`, with `overrides` (undefined deletes). */
export function pqcClaims(
  subject: { sub: string; role?: string },
  service = "headyme",
  operation = "sync",
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  const config = testConfig();
  const context = config.pqc.services[service];
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    iss: config.issuer,
    aud: PQC_AUDIENCE,
    sub: subject.sub,
    role: subject.role ?? "user",
    service,
    operation,
    permissions: context?.operations[operation] ?? [],
    iat: now,
    exp: now + config.pqc.tokenTtlSeconds,
    jti: crypto.randomUUID(),
    heady_ctx: { service_id: context?.serviceId ?? "svc-unknown", endpoint: context?.endpoint ?? "https://unknown.test", mtls_cert: null },
    ...overrides,
  };
  for (const [name, value] of Object.entries(overrides)) if (value === undefined) delete claims[name];
  return claims;
}

/** Signs `claims` as a PQC token with `key` (default: the Worker's local key), header overridable. */
export async function signPqc(
  claims: Record<string, unknown>,
  options: { key?: MlDsaTestKey; header?: Record<string, unknown> } = {},
): Promise<string> {
  const key = options.key ?? (await workerLocalKey());
  return forgeJwt({ alg: "ML-DSA-65", typ: PQC_TOKEN_TYP, kid: key.kid, ...options.header }, claims, key.sign);
}

/** Decodes a compact JWS's protected header without verifying it. */
export function decodeHeader(token: string): Record<string, unknown> {
  return JSON.parse(new TextDecoder().decode(fromBase64url(token.split(".")[0] ?? ""))) as Record<string, unknown>;
}

// --- the fake KMS --------------------------------------------------------------------------------

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
 * `tenant`, as scripts/kms.mjs makes them: how a test moves an alias between keys.
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
