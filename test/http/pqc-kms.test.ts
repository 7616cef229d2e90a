import { env } from "cloudflare:workers";
import { calculateJwkThumbprint } from "jose";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { nobleMlDsa65 } from "../../src/crypto/ml-dsa";
import { kvKeys, PUBLIC_KEY_CACHE_TTL_SECONDS } from "../../src/db/kv-keys";
import { type Bindings, loadConfig } from "../../src/env";
import { rawPublicKeyFromSpki } from "../../src/pqc/akp";
import { pqcVerificationKey, resetPqcKeyringForTests, SIGNER_REFETCH_INTERVAL_MS } from "../../src/pqc/keyring";
import { KmsClient } from "../../src/pqc/kms-client";
import { pqcSigner } from "../../src/pqc/signer";
import { clearPqcCacheForTests } from "../../src/pqc/verified-cache";
import { registerUser, type SignedIn } from "../support/accounts";
import { base64url, fromBase64url } from "../support/encoding";
import type { Handler } from "../support/http";
import { type KmsTenant, kmsBindings, kmsMode, kmsStats, kmsTenant } from "../support/kms";
import { kvDown } from "../support/outages";
import { jwks, requestPqcToken } from "../support/pqc";
import { decodeHeader, decodePayload, verifyCall } from "../support/tokens";
import { appWith, request } from "../support/worker";

/**
 * The Worker with PQC_SIGNER=kms against the fake KMS (test/support/servers/fake-kms.ts), which checks the
 * Worker's SigV4 signatures and signs with Node's own ML-DSA-65 (OpenSSL): tokens end to end,
 * KMS failures as a clear 503, verification that survives a KMS outage, and single-flight key fetches.
 */

const headyme = { service: "headyme", operation: "sync" } as const;
let user: SignedIn;
/** The fake KMS key's raw public key and kid, learned independently of the Worker. */
let kmsPublicKey: Uint8Array;
let kmsKid: string;

beforeAll(async () => {
  user = await registerUser();
  const kms = new KmsClient({
    region: env.AWS_REGION ?? "us-east-1",
    keyId: env.TEST_KMS_KEY_ID,
    accessKeyId: env.TEST_KMS_ACCESS_KEY_ID,
    secretAccessKey: env.TEST_KMS_SECRET_ACCESS_KEY,
    endpoint: env.TEST_KMS_ENDPOINT,
  });
  kmsPublicKey = rawPublicKeyFromSpki((await kms.getPublicKey()).spki);
  kmsKid = await calculateJwkThumbprint({ kty: "AKP", alg: "ML-DSA-65", pub: base64url(kmsPublicKey) });
});
afterAll(() => resetPqcKeyringForTests());

interface KmsWorker {
  tenant: KmsTenant;
  bindings: Bindings;
  handler: Handler;
}

/**
 * A Worker that has never seen the KMS key: a fresh isolate's keyring, no KV entry for the key,
 * a new bindings object (so a new config and signer) and its own fake-KMS credentials and counters.
 */
async function freshKmsWorker(overrides: Partial<Bindings> = {}): Promise<KmsWorker> {
  forgetIsolateState();
  await env.CACHE.delete(kvKeys.pqcPublicKey(kmsKid));
  await env.CACHE.delete(kvKeys.pqcCurrentPublicKey);
  const tenant = await kmsTenant();
  const bindings = kmsBindings(tenant, overrides);
  return { tenant, bindings, handler: appWith(bindings) };
}

/** What a new isolate does not have: its keyring and its cache of verified PQC tokens. */
function forgetIsolateState(): void {
  resetPqcKeyringForTests();
  clearPqcCacheForTests();
}

/** The same deployment seen by a new isolate: same KMS and KV, nothing in memory. */
function newIsolate(worker: KmsWorker): Handler {
  forgetIsolateState();
  return appWith({ ...worker.bindings });
}

async function issueThrough(handler: Handler): Promise<string> {
  const response = await requestPqcToken(headyme, { token: user.accessToken, handler });
  expect(response.status, response.text).toBe(200);
  return response.body.pqcToken;
}

function expectUnavailable(response: { status: number; body: any; headers: Headers; text: string }) {
  expect(response.status, response.text).toBe(503);
  expect(response.body.error.code).toBe("unavailable");
  expect(response.body.error.message).toBe("The token signer is unavailable; try again shortly.");
  expect(Number(response.headers.get("Retry-After"))).toBeGreaterThan(0);
  expect(response.body).not.toHaveProperty("pqcToken");
  expect(response.body).not.toHaveProperty("reference");
  expect(response.text).not.toMatch(/eyJ[A-Za-z0-9_-]+\.eyJ/);
}

describe("a token signed through KMS, end to end", () => {
  let worker: KmsWorker;
  let token: string;
  beforeAll(async () => {
    worker = await freshKmsWorker();
    token = await issueThrough(worker.handler);
  });

  it("is signed by the KMS key: kid is the RFC 7638 thumbprint of KMS's public key", async () => {
    expect(decodeHeader(token)).toEqual({ alg: "ML-DSA-65", typ: "pqc+jwt", kid: kmsKid });
    expect(fromBase64url(token.split(".")[2]!)).toHaveLength(3309);
    expect(decodePayload(token)).toMatchObject({ sub: user.userId, service: "headyme", operation: "sync" });
    const stats = await kmsStats(worker.tenant);
    expect(stats.succeeded).toMatchObject({ Sign: 1, GetPublicKey: 1 });
    expect(stats.errors).toEqual({}); // every call passed the fake's SigV4 check
  });

  it("is verified by the Worker", async () => {
    const response = await verifyCall({ pqc: token, handler: worker.handler });
    expect(response.status, response.text).toBe(200);
    expect(response.body).toMatchObject({
      valid: true,
      kind: "pqc_token",
      sub: user.userId,
      service: "headyme",
      jti: decodePayload(token).jti,
    });
  });

  it("is verified by noble from the test side with the JWKS's pub alone", async () => {
    const key = (await jwks(worker.handler)).find((candidate) => candidate.kid === kmsKid);
    expect(key).toEqual({ kty: "AKP", alg: "ML-DSA-65", pub: base64url(kmsPublicKey), kid: kmsKid, use: "sig" });
    const [header, payload, signature] = token.split(".") as [string, string, string];
    const verify = await nobleMlDsa65.verifier(fromBase64url(key!.pub!));
    expect(await verify(new TextEncoder().encode(`${header}.${payload}`) as Uint8Array<ArrayBuffer>, fromBase64url(signature))).toBe(true);
    expect(await verify(new TextEncoder().encode(`${header}.${payload}.`) as Uint8Array<ArrayBuffer>, fromBase64url(signature))).toBe(
      false,
    );
  });

  it("caches the public key in KV for 24 h under its kid", async () => {
    expect(await env.CACHE.get(kvKeys.pqcPublicKey(kmsKid), "json")).toEqual({
      kty: "AKP",
      alg: "ML-DSA-65",
      pub: base64url(kmsPublicKey),
      kid: kmsKid,
      use: "sig",
    });
    const { keys } = await env.CACHE.list({ prefix: kvKeys.pqcPublicKey(kmsKid) });
    const expected = Date.now() / 1000 + PUBLIC_KEY_CACHE_TTL_SECONDS;
    expect(Math.abs(keys[0]!.expiration! - expected)).toBeLessThan(60);
  });

  it("a reference works through KMS too", async () => {
    const issued = await requestPqcToken({ ...headyme, reference: true }, { token: user.accessToken, handler: worker.handler });
    expect(issued.status, issued.text).toBe(200);
    const verified = await verifyCall({ token: issued.body.reference, handler: worker.handler });
    expect(verified.status, verified.text).toBe(200);
    expect(verified.body.reference).toBe(true);
  });
});

describe("KMS trouble is a clear 503, never a token signed another way", () => {
  it("wrong AWS secret in the Worker: the fake refuses the SigV4 signature, the Worker answers 503", async () => {
    const worker = await freshKmsWorker({ AWS_SECRET_ACCESS_KEY: "wrong-secret-access-key-0000000000000000" });
    expectUnavailable(await requestPqcToken(headyme, { token: user.accessToken, handler: worker.handler }));
    expectUnavailable(await requestPqcToken({ ...headyme, reference: true }, { token: user.accessToken, handler: worker.handler }));
    const stats = await kmsStats(worker.tenant);
    expect(stats.errors).toEqual({ InvalidSignatureException: 2 }); // one attempt per request: not retryable
    expect(stats.calls).toEqual({ Sign: 0, Verify: 0, GetPublicKey: 0 });
  });

  it("an access key id KMS does not know: 503", async () => {
    const worker = await freshKmsWorker({ AWS_ACCESS_KEY_ID: "AKIAUNKNOWN000000000" });
    expectUnavailable(await requestPqcToken(headyme, { token: user.accessToken, handler: worker.handler }));
  });

  it("Sign throttled: retried with backoff, then 503 with Retry-After; fine again once KMS is", async () => {
    const worker = await freshKmsWorker();
    await jwks(worker.handler); // the public key is known; only Sign is in trouble
    await kmsMode(worker.tenant, "throttle", { operations: ["Sign"] });
    expectUnavailable(await requestPqcToken(headyme, { token: user.accessToken, handler: worker.handler }));
    const stats = await kmsStats(worker.tenant);
    expect(stats.calls.Sign).toBe(3);
    expect(stats.errors.ThrottlingException).toBe(3);

    await kmsMode(worker.tenant, "ok");
    await issueThrough(worker.handler);
  });

  it("GetPublicKey throttled for a signer that has no key yet: 503, and /.well-known/jwks.json says 503 too", async () => {
    const worker = await freshKmsWorker();
    await kmsMode(worker.tenant, "throttle", { operations: ["GetPublicKey"] });
    expectUnavailable(await requestPqcToken(headyme, { token: user.accessToken, handler: worker.handler }));
    const keys = await request("GET", "/.well-known/jwks.json", { handler: worker.handler });
    expect(keys.status).toBe(503);
    expect(keys.body.error.code).toBe("unavailable");
    expect((await kmsStats(worker.tenant)).calls.Sign).toBe(0);
  });

  it("KMS answering 200 with a body that is not its JSON (a proxy's HTML page): 503, for Sign and for the JWKS", async () => {
    const worker = await freshKmsWorker();
    await jwks(worker.handler);
    await kmsMode(worker.tenant, "garbage", { operations: ["Sign"] });
    expectUnavailable(await requestPqcToken(headyme, { token: user.accessToken, handler: worker.handler }));
    const fresh = await freshKmsWorker();
    await kmsMode(fresh.tenant, "garbage", { operations: ["GetPublicKey"] });
    const keys = await request("GET", "/.well-known/jwks.json", { handler: fresh.handler });
    expect(keys.status, keys.text).toBe(503);
    expect(keys.body.error.code).toBe("unavailable");
    expect(Number(keys.headers.get("Retry-After"))).toBeGreaterThan(0);
  });

  it("KMS down (500s) or dropping connections: 503", async () => {
    const worker = await freshKmsWorker();
    await jwks(worker.handler);
    await kmsMode(worker.tenant, "down");
    expectUnavailable(await requestPqcToken(headyme, { token: user.accessToken, handler: worker.handler }));
    await kmsMode(worker.tenant, "destroy");
    expectUnavailable(await requestPqcToken(headyme, { token: user.accessToken, handler: worker.handler }));
  });
});

describe("a KMS outage after the public key was cached does not stop verification", () => {
  let worker: KmsWorker;
  let token: string;
  let fetchesBeforeOutage: number;
  beforeAll(async () => {
    worker = await freshKmsWorker();
    token = await issueThrough(worker.handler);
    fetchesBeforeOutage = (await kmsStats(worker.tenant)).calls.GetPublicKey;
    await kmsMode(worker.tenant, "down");
  });

  it("the same isolate verifies from memory", async () => {
    expect((await verifyCall({ pqc: token, handler: worker.handler })).status).toBe(200);
  });

  it("a new isolate verifies from KV, without asking KMS", async () => {
    const handler = newIsolate(worker);
    const responses = await Promise.all(Array.from({ length: 5 }, () => verifyCall({ pqc: token, handler })));
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 200, 200]);
    expect((await kmsStats(worker.tenant)).calls.GetPublicKey).toBe(fetchesBeforeOutage);
  });

  it("while issuing is refused with 503 (KMS is still down)", async () => {
    expectUnavailable(await requestPqcToken(headyme, { token: user.accessToken, handler: worker.handler }));
  });

  it("a tampered token is still refused from the cached key", async () => {
    const [header, payload, signature] = token.split(".") as [string, string, string];
    const other = base64url(JSON.stringify({ ...decodePayload(token), operation: "privileged-operation" }));
    const response = await verifyCall({ pqc: `${header}.${other}.${signature}`, handler: newIsolate(worker) });
    expect(response.status).toBe(401);
    expect(payload).not.toBe(other);
  });
});

describe("a KMS outage in an isolate that has never fetched the key", () => {
  let worker: KmsWorker;
  let token: string;
  beforeAll(async () => {
    worker = await freshKmsWorker();
    token = await issueThrough(worker.handler);
    await kmsMode(worker.tenant, "down");
  });

  it("/.well-known/jwks.json still publishes the current key: KMS is asked, and when it cannot answer, KV's record of the key serves", async () => {
    const before = (await kmsStats(worker.tenant)).calls.GetPublicKey;
    const keys = await request<{ keys: { kid: string }[] }>("GET", "/.well-known/jwks.json", { handler: newIsolate(worker) });
    expect(keys.status, keys.text).toBe(200);
    expect(keys.body.keys.map((key) => key.kid)).toContain(kmsKid);
    expect((await kmsStats(worker.tenant)).calls.GetPublicKey).toBeGreaterThan(before);
  });

  it("even after the key's own 24 h KV entry has expired, the current key's record serves both the JWKS and verification", async () => {
    await env.CACHE.delete(kvKeys.pqcPublicKey(kmsKid));
    const handler = newIsolate(worker);
    expect((await verifyCall({ pqc: token, handler })).status).toBe(200);
    expect((await jwks(newIsolate(worker))).map((key) => key.kid)).toContain(kmsKid);
  });

  it("issuance is still a 503, never a token signed another way", async () => {
    expectUnavailable(await requestPqcToken(headyme, { token: user.accessToken, handler: newIsolate(worker) }));
  });

  it("with KV down too, and the key in neither place, verification is a 503 (it cannot tell), not a 401", async () => {
    forgetIsolateState();
    const handler = appWith({ ...worker.bindings, CACHE: kvDown() });
    const response = await verifyCall({ pqc: token, handler });
    expect(response.status, response.text).toBe(503);
    expect(response.body.error.code).toBe("unavailable");
  });
});

describe("KV down while KMS works: the signer supplies the key", () => {
  it("a fresh isolate verifies a KMS token and publishes the JWKS, asking KMS once", async () => {
    const token = await issueThrough((await freshKmsWorker()).handler);
    const cold = await freshKmsWorker();
    const handler = appWith({ ...cold.bindings, CACHE: kvDown() });
    const verified = await verifyCall({ pqc: token, handler });
    expect(verified.status, verified.text).toBe(200);
    const keys = await request<{ keys: { kid: string }[] }>("GET", "/.well-known/jwks.json", { handler });
    expect(keys.status, keys.text).toBe(200);
    expect(keys.body.keys.map((key) => key.kid)).toContain(kmsKid);
    expect((await kmsStats(cold.tenant)).calls.GetPublicKey).toBe(1);
  });
});

describe("an uncached kid: single flight", () => {
  it("a burst of 20 concurrent verifications makes exactly one GetPublicKey call, and all pass", async () => {
    const token = await issueThrough((await freshKmsWorker()).handler);
    const cold = await freshKmsWorker(); // the key is now in neither the isolate nor KV
    expect(await env.CACHE.get(kvKeys.pqcPublicKey(kmsKid))).toBeNull();

    const responses = await Promise.all(Array.from({ length: 20 }, () => verifyCall({ pqc: token, handler: cold.handler })));
    expect(responses.map((response) => response.status)).toEqual(Array(20).fill(200));
    expect((await kmsStats(cold.tenant)).calls.GetPublicKey).toBe(1);
  });

  it("a lookup whose KV read raced a concurrent fetch still finds the key that fetch stored in this isolate", async () => {
    const cold = await freshKmsWorker();
    const config = loadConfig(cold.bindings);
    // KV is eventually consistent: the second lookup reads KV before the first has stored the key,
    // and its answer arrives only after the first lookup (and its KMS fetch) has finished.
    let release!: () => void;
    const firstDone = new Promise<void>((resolve) => (release = resolve));
    let reads = 0;
    const racingCache = {
      async get(key: string, type: "json") {
        // Only the key's own entry races; its retirement marker is read alongside it.
        const read = key === kvKeys.pqcPublicKey(kmsKid) ? ++reads : 0;
        const value = await env.CACHE.get(key, type);
        if (read === 2) await firstDone;
        return value;
      },
      put: (key: string, value: string, options?: KVNamespacePutOptions) => env.CACHE.put(key, value, options),
    } as unknown as KVNamespace;

    const first = pqcVerificationKey(config, racingCache, kmsKid);
    const second = pqcVerificationKey(config, racingCache, kmsKid);
    expect((await first)?.kid).toBe(kmsKid);
    release();
    expect((await kmsStats(cold.tenant)).calls.GetPublicKey).toBe(1);
    // The key is in this isolate's map by now; refusing the token here would be a false 401.
    expect((await second)?.kid).toBe(kmsKid);
  });

  /**
   * In workerd a fetch's promise belongs to the request that started it; a request that awaits it
   * fails with `Promise will never complete.` once that request is cancelled, and the fetch then
   * never ends (issue 22, item 13). Here the first fetch is slow instead, and the clock is moved
   * past its bound: the next lookup must not wait on it, but fetch for itself.
   */
  async function stuckFetch(start: (config: ReturnType<typeof loadConfig>) => Promise<unknown>) {
    const cold = await freshKmsWorker();
    const config = loadConfig(cold.bindings);
    await kmsMode(cold.tenant, "slow", { operations: ["GetPublicKey"], times: 1, delayMs: 1500 });
    const first = start(config);
    let firstSettled = false;
    void first.finally(() => (firstSettled = true));
    await vi.waitFor(async () => expect((await kmsStats(cold.tenant)).calls.GetPublicKey).toBe(1));
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + SIGNER_REFETCH_INTERVAL_MS + 1); // past every bound
    return { cold, config, first, firstSettled: () => firstSettled };
  }

  it("a lookup that finds the signer fetch stuck past its bound fetches the key itself instead of waiting on another request's fetch", async () => {
    const stuck = await stuckFetch((config) => pqcVerificationKey(config, env.CACHE, kmsKid));
    try {
      expect((await pqcVerificationKey(stuck.config, env.CACHE, kmsKid))?.kid).toBe(kmsKid);
      expect(stuck.firstSettled()).toBe(false);
    } finally {
      vi.useRealTimers();
    }
    expect(((await stuck.first) as Awaited<ReturnType<typeof pqcVerificationKey>>)?.kid).toBe(kmsKid);
    expect((await kmsStats(stuck.cold.tenant)).calls.GetPublicKey).toBe(2);
  });

  it("the KMS signer likewise: signing does not wait on a GetPublicKey another request left stuck", async () => {
    const stuck = await stuckFetch((config) => pqcSigner(config).publicKey());
    try {
      expect((await pqcSigner(stuck.config).signingKey()).kid).toBe(kmsKid);
      expect(stuck.firstSettled()).toBe(false);
    } finally {
      vi.useRealTimers();
    }
    await stuck.first;
    expect((await kmsStats(stuck.cold.tenant)).calls.GetPublicKey).toBe(2);
  });
});
