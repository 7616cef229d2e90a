import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KMSClient, SignCommand } from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshDevVars, writeDevVars } from "../../scripts/dev/dev-vars.ts";
import { createSigningKey, rotateSigningKey } from "../../scripts/ops/kms.ts";
import { freePort, launchWranglerDev, type RunningWrangler } from "../support/e2e/wrangler-process";
import { uniqueEmail } from "../support/fresh";
import { httpClient, network, type RequestOptions } from "../support/http";
import { type FakeKms, startFakeKms } from "../support/servers/fake-kms";

/**
 * A full key rotation, the way an operator does it (docs/operations.md, "Key rotation runbook"): a `wrangler dev`
 * that signs with the fake KMS (SigV4 checked), `scripts/ops/kms.ts rotate` moving the alias, and then,
 * from outside only: the JWKS publishes both keys during the overlap, tokens of the old key verify,
 * and afterwards the old `kid` is refused, even on a token the old KMS key signed a moment ago.
 */

const TOKEN_TTL_SECONDS = 60;
const OVERLAP_SECONDS = 90; // the shortest allowed: the token lifetime plus 30 s
const alias = `alias/headykey-pqc-rotation-${randomUUID().slice(0, 8)}`;

let fake: FakeKms;
let kms: KMSClient;
let worker: RunningWrangler;
let stateDir: string;
let firstKid: string;

beforeAll(async () => {
  fake = await startFakeKms({ region: "us-east-1" });
  kms = new KMSClient({
    region: "us-east-1",
    endpoint: fake.url,
    credentials: { accessKeyId: fake.accessKeyId, secretAccessKey: fake.secretAccessKey },
  });
  firstKid = (await createSigningKey(kms, alias)).kid;

  stateDir = mkdtempSync(join(tmpdir(), "headykey-rotation-"));
  const envFile = join(stateDir, "rotation.vars");
  writeDevVars(
    envFile,
    freshDevVars({
      ENVIRONMENT: "test",
      PQC_SIGNER: "kms",
      KMS_ENDPOINT: fake.url,
      KMS_PQC_KEY_ID: alias,
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: fake.accessKeyId,
      AWS_SECRET_ACCESS_KEY: fake.secretAccessKey,
      PQC_TOKEN_TTL_SECONDS: String(TOKEN_TTL_SECONDS),
      PQC_KEY_OVERLAP_SECONDS: String(OVERLAP_SECONDS),
    }),
  );
  worker = await launchWranglerDev({ port: await freePort(), stateDir, envFile });
});

afterAll(async () => {
  await worker?.stop();
  await fake?.close();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

/** This file's own Worker (its own wrangler dev, with the KMS signer), through the tests' one client. */
const rotating = httpClient({ handler: network, baseUrl: () => worker.baseUrl });
const at = (path: string, options: RequestOptions = {}) => rotating(options.body === undefined ? "GET" : "POST", path, options);
const headerOf = (token: string) => JSON.parse(Buffer.from(token.split(".")[0]!, "base64url").toString()) as { kid: string };
const publishedPqcKids = async () =>
  (await at("/.well-known/jwks.json")).body.keys.filter((key: { kty: string }) => key.kty === "AKP").map((key: { kid: string }) => key.kid);
const verifyStatus = async (pqcToken: string) => (await at("/api/auth/verify", { headers: { "X-Heady-PQC-Token": pqcToken } })).status;

/** A token like `template` (fresh iat, exp and jti), signed by KMS with the key `keyId`: what a holder of the old key could make. */
async function signWithKmsKey(template: string, keyId: string, kid: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    ...JSON.parse(Buffer.from(template.split(".")[1]!, "base64url").toString()),
    iat: now,
    exp: now + TOKEN_TTL_SECONDS,
    jti: randomUUID(),
  };
  const signingInput = `${Buffer.from(JSON.stringify({ alg: "ML-DSA-65", typ: "pqc+jwt", kid })).toString("base64url")}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}`;
  const { Signature } = await kms.send(
    new SignCommand({ KeyId: keyId, Message: Buffer.from(signingInput), MessageType: "RAW", SigningAlgorithm: "ML_DSA_SHAKE_256" }),
  );
  return `${signingInput}.${Buffer.from(Signature!).toString("base64url")}`;
}

describe("a full PQC key rotation against a KMS-backed wrangler dev", () => {
  it("publishes both keys during the overlap, verifies the old key's tokens, then refuses the old kid", {
    timeout: (OVERLAP_SECONDS + 60) * 1000,
  }, async () => {
    const user = (await at("/api/auth/register", { body: { email: uniqueEmail("rotation"), password: "violet harbour sextant owl" } }))
      .body;
    const issue = async () => {
      const response = await at("/api/auth/request-pqc-token", {
        token: user.accessToken,
        body: { service: "headyme", operation: "sync" },
      });
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      return response.body.pqcToken as string;
    };

    const before = await issue();
    expect(headerOf(before).kid).toBe(firstKid); // the kid `scripts/ops/kms.ts create` printed
    expect(await publishedPqcKids()).toEqual([firstKid]);

    const rotation = await rotateSigningKey(kms, alias);
    const after = await issue();
    expect(headerOf(after).kid).toBe(rotation.current.kid);
    const rotatedAt = Date.now();

    // The overlap: both keys published (the current one first), both keys' tokens verify.
    expect(await publishedPqcKids()).toEqual([rotation.current.kid, firstKid]);
    expect(await verifyStatus(before)).toBe(200);
    expect(await verifyStatus(after)).toBe(200);
    expect(await verifyStatus(await signWithKmsKey(before, rotation.previous.keyId, firstKid))).toBe(200);

    // After the overlap: the old kid is gone from the JWKS and refused, even on a token signed just now.
    await new Promise((resolve) => setTimeout(resolve, rotatedAt + OVERLAP_SECONDS * 1000 + 2_000 - Date.now()));
    expect(await publishedPqcKids()).toEqual([rotation.current.kid]);
    const late = await signWithKmsKey(before, rotation.previous.keyId, firstKid);
    const refused = await at("/api/auth/verify", { headers: { "X-Heady-PQC-Token": late } });
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe("invalid_token");
    expect(await verifyStatus(await issue())).toBe(200);
  });
});
