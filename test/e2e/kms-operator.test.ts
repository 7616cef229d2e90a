import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { promisify } from "node:util";
import { KMSClient } from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSigningKey, publicJwk, retireSigningKey, rotateSigningKey } from "../../scripts/ops/kms.ts";
import { akpJwk, rawPublicKeyFromSpki } from "../../src/pqc/akp";
import { type FakeKms, startFakeKms } from "../support/servers/fake-kms";

/**
 * The operator scripts (scripts/ops/kms.ts, on @aws-sdk/client-kms) against the fake KMS, which checks
 * every call's SigV4 signature as AWS does: create, show, rotate, retire only after the overlap.
 */

let fake: FakeKms;
let kms: KMSClient;
const alias = () => `alias/headykey-pqc-ops-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  fake = await startFakeKms({ region: "us-east-1" });
  kms = new KMSClient({
    region: "us-east-1",
    endpoint: fake.url,
    credentials: { accessKeyId: fake.accessKeyId, secretAccessKey: fake.secretAccessKey },
  });
});
afterAll(() => fake.close());

describe("the KMS operator scripts", () => {
  it("create makes an ML_DSA_65 SIGN_VERIFY key behind its alias; show gives the JWK and the kid the Worker would use", async () => {
    const name = alias();
    const created = await createSigningKey(kms, name);
    expect(created.arn).toBe(`arn:aws:kms:us-east-1:${fake.accountId}:key/${created.keyId}`);
    const shown = await publicJwk(kms, name);
    expect(shown.jwk).toEqual(created.jwk);
    expect(shown.jwk).toMatchObject({ kty: "AKP", alg: "ML-DSA-65", use: "sig" });
    // The Worker's own thumbprint of the same key (src/pqc/akp.ts) is the same kid.
    const spki = Buffer.from(shown.jwk.pub, "base64url");
    expect((await akpJwk(new Uint8Array(spki))).kid).toBe(created.kid);
    expect(
      rawPublicKeyFromSpki(new Uint8Array([...Buffer.from("308207b2300b0609608648016503040312038207a100", "hex"), ...spki])),
    ).toHaveLength(1952);
  });

  it("a wrong secret is refused by the fake's SigV4 check", async () => {
    const wrong = new KMSClient({
      region: "us-east-1",
      endpoint: fake.url,
      credentials: { accessKeyId: fake.accessKeyId, secretAccessKey: "wrong-secret-wrong-secret-wrong-secret-00" },
    });
    await expect(createSigningKey(wrong, alias())).rejects.toMatchObject({ name: "InvalidSignatureException" });
  });

  it("rotate makes a new key and moves the alias; the old key still signs until it is retired", async () => {
    const name = alias();
    const created = await createSigningKey(kms, name);
    const rotated = await rotateSigningKey(kms, name, new Date("2026-01-01T00:00:00Z"));
    expect(rotated.previous).toEqual({ keyId: created.keyId, kid: created.kid });
    expect(rotated.current.kid).not.toBe(created.kid);
    expect((await publicJwk(kms, name)).jwk.kid).toBe(rotated.current.kid);
    expect((await publicJwk(kms, created.keyId)).jwk.kid).toBe(created.kid);
  });

  it("retire schedules the old key's deletion only after the overlap, and never the alias's current key", async () => {
    const name = alias();
    const created = await createSigningKey(kms, name);
    const rotatedAt = "2026-03-01T00:00:00.000Z";
    const rotated = await rotateSigningKey(kms, name, new Date(rotatedAt));
    const early = new Date("2026-03-02T23:00:00Z"); // 47 h later, inside the 48 h default overlap
    await expect(retireSigningKey(kms, { keyId: created.keyId, alias: name, rotatedAt, now: early })).rejects.toThrow(
      /overlap has not passed/,
    );
    const late = new Date("2026-03-03T01:00:00Z");
    await expect(retireSigningKey(kms, { keyId: rotated.current.keyId, alias: name, rotatedAt, now: late })).rejects.toThrow(
      /still .*'s key/,
    );

    const retired = await retireSigningKey(kms, { keyId: created.keyId, alias: name, rotatedAt, now: late, pendingDays: 7 });
    expect(retired.keyState).toBe("PendingDeletion");
    expect(new Date(retired.deletionDate).getTime() - Date.now()).toBeGreaterThan(6.9 * 86_400_000);
    // A key pending deletion no longer signs or gives its public key, as in AWS.
    await expect(publicJwk(kms, created.keyId)).rejects.toMatchObject({ name: "KMSInvalidStateException" });
    expect((await publicJwk(kms, name)).jwk.kid).toBe(rotated.current.kid);
  });

  it("the command line prints one JSON object, and fails with a message", async () => {
    // Asynchronous: the fake KMS answers from this very process, which a spawnSync would block.
    const run = (...args: string[]) =>
      promisify(execFile)(process.execPath, ["scripts/ops/kms.ts", ...args], { encoding: "utf8", env }).then(
        (done) => ({ status: 0, stdout: done.stdout, stderr: done.stderr }),
        (failed: { code: number; stdout: string; stderr: string }) => ({
          status: failed.code,
          stdout: failed.stdout,
          stderr: failed.stderr,
        }),
      );
    const name = alias();
    const env = {
      ...process.env,
      KMS_ENDPOINT: fake.url,
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: fake.accessKeyId,
      AWS_SECRET_ACCESS_KEY: fake.secretAccessKey,
    };
    const created = await run("create", "--alias", name);
    expect(created.status, created.stderr).toBe(0);
    const { kid } = JSON.parse(created.stdout);
    const shown = await run("show", "--key", name);
    expect(JSON.parse(shown.stdout).kid).toBe(kid);
    const refused = await run("retire", "--key", name, "--alias", name, "--rotated-at", new Date().toISOString());
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/^kms: the overlap has not passed/);
  });
});
