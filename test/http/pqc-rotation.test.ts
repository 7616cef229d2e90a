import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { database } from "../../src/db/client";
import { kvKeys } from "../../src/db/kv-keys";
import { type Bindings, ConfigError, loadConfig } from "../../src/env";
import { akpJwk } from "../../src/pqc/akp";
import { adoptSigningKey } from "../../src/pqc/key-store";
import { KEY_STATUS_REFRESH_MS, resetPqcKeyringForTests } from "../../src/pqc/keyring";
import { KmsClient } from "../../src/pqc/kms-client";
import { clearPqcCacheForTests } from "../../src/pqc/verified-cache";
import { runMaintenance } from "../../src/scheduled";
import { registerUser, type SignedIn, userWithRole } from "../support/accounts";
import { base64url } from "../support/encoding";
import type { Handler } from "../support/http";
import { kmsBindings, kmsManage, kmsTenant } from "../support/kms";
import { jwks, mlDsaKeyFromSeed, pqcClaims, requestPqcToken, signPqc } from "../support/pqc";
import { decodeHeader, forgeJwt, verifyCall } from "../support/tokens";
import { appWith, request } from "../support/worker";

/**
 * Rotation with overlap: a Worker that signs with a new key records it in D1 and gives the old key
 * a retirement time PQC_KEY_OVERLAP_SECONDS ahead. Meanwhile the JWKS publishes both keys and
 * tokens of the old key verify; afterwards the old `kid` is refused everywhere, even for a token
 * the old key signed a moment ago (a stolen key is the case retirement exists for).
 *
 * Two deployments with different local seeds stand for the KMS alias moving (test/e2e does the
 * same against the fake KMS). Time after the overlap is the test's clock moved forward
 * (`vi.setSystemTime`, which the Worker's code in this isolate shares); D1 and KV are real.
 */

const headyme = { service: "headyme", operation: "sync" } as const;
const overlapMs = loadConfig(env).pqc.keyOverlapSeconds * 1000;

interface Deployment {
  seed: Uint8Array;
  bindings: Bindings;
  handler: Handler;
}

function deployment(overrides: Partial<Bindings> = {}): Deployment {
  const seed = crypto.getRandomValues(new Uint8Array(32));
  const bindings = { ...env, PQC_LOCAL_SEED: base64url(seed), ...overrides } as Bindings;
  return { seed, bindings, handler: appWith(bindings) };
}

/** What a new isolate does not have: the keyring and the cache of verified PQC tokens. */
function newIsolate(): void {
  resetPqcKeyringForTests();
  clearPqcCacheForTests();
}

const pqcKids = async (handler: Handler) => (await jwks(handler)).filter((key) => key.kty === "AKP").map((key) => key.kid);

async function issue(user: SignedIn, from: Pick<Deployment, "handler">): Promise<{ token: string; kid: string }> {
  const response = await requestPqcToken(headyme, { token: user.accessToken, handler: from.handler });
  expect(response.status, response.text).toBe(200);
  return { token: response.body.pqcToken, kid: decodeHeader(response.body.pqcToken).kid as string };
}

const verifies = async (token: string, on: Pick<Deployment, "handler">) => (await verifyCall({ pqc: token, handler: on.handler })).status;

async function keyRow(kid: string): Promise<{ published_at: number; retires_at: number | null } | null> {
  return env.DB.prepare("SELECT published_at, retires_at FROM pqc_keys WHERE kid = ?").bind(kid).first();
}

let user: SignedIn;
beforeAll(async () => {
  user = await registerUser();
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  newIsolate();
});

describe("PQC key rotation with overlap", () => {
  it("publishes both keys during the overlap, verifies old tokens until then, and refuses the old kid afterwards", async () => {
    const before = deployment();
    const after = deployment();
    newIsolate();
    const old = await issue(user, before);
    expect(await pqcKids(before.handler)).toContain(old.kid);
    expect(await keyRow(old.kid)).toMatchObject({ retires_at: null });

    newIsolate(); // the new key's deployment runs in new isolates
    const rotatedAt = Date.now();
    const current = await issue(user, after);
    expect(current.kid).not.toBe(old.kid);
    const retiresAt = (await keyRow(old.kid))!.retires_at!;
    expect(retiresAt).toBeGreaterThanOrEqual(rotatedAt + overlapMs);
    expect(retiresAt).toBeLessThanOrEqual(Date.now() + overlapMs);
    expect(await keyRow(current.kid)).toMatchObject({ retires_at: null });
    expect(await env.CACHE.get(kvKeys.pqcKeyRetirement(old.kid))).toBe(String(retiresAt));

    // During the overlap: the current key first, then the old one; both verify, here and in a fresh isolate.
    const published = await pqcKids(after.handler);
    expect(published.indexOf(current.kid)).toBe(0);
    expect(published).toContain(old.kid);
    expect(await verifies(old.token, after)).toBe(200);
    expect(await verifies(current.token, after)).toBe(200);
    newIsolate();
    expect(await verifies(old.token, after)).toBe(200);

    // After the overlap. The old key (held by whoever stole it) signs a fresh, unexpired token.
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(retiresAt + 1_000);
    const stolenKey = await mlDsaKeyFromSeed(before.seed);
    const forged = await signPqc(pqcClaims({ sub: user.userId }), { key: stolenKey });
    expect(decodeHeader(forged).kid).toBe(old.kid);
    const refused = await verifyCall({ pqc: forged, handler: after.handler });
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe("invalid_token");
    newIsolate();
    expect(await verifies(forged, after)).toBe(401);
    // The new key goes on: a token issued now verifies, and the JWKS no longer lists the old key.
    const later = await issue(user, after);
    expect(later.kid).toBe(current.kid);
    expect(await verifies(later.token, after)).toBe(200);
    expect(await pqcKids(after.handler)).not.toContain(old.kid);
  });

  it("a cached verification of an old-key token ends with the key's retirement", async () => {
    const before = deployment();
    const after = deployment();
    newIsolate();
    const old = await issue(user, before);
    newIsolate();
    await issue(user, after);
    const retiresAt = (await keyRow(old.kid))!.retires_at!;
    const stolenKey = await mlDsaKeyFromSeed(before.seed);
    vi.useFakeTimers({ toFake: ["Date"] });
    // Signed just before the retirement, so its `exp` lies well after it; verified (and cached) then.
    vi.setSystemTime(retiresAt - 5_000);
    const lateToken = await signPqc(pqcClaims({ sub: user.userId }), { key: stolenKey });
    expect(await verifies(lateToken, after)).toBe(200);
    vi.setSystemTime(retiresAt + 1);
    expect(await verifies(lateToken, after)).toBe(401);
  });

  it("an isolate that cached the old key before the rotation learns the retirement from KV within KEY_STATUS_REFRESH_MS", async () => {
    const before = deployment();
    const next = await akpJwk((await mlDsaKeyFromSeed(crypto.getRandomValues(new Uint8Array(32)))).publicKey);
    newIsolate();
    const old = await issue(user, before);
    expect(await verifies(old.token, before)).toBe(200); // this isolate now holds the old key as current

    // Another isolate adopts the new key: it writes D1 and the KV marker (what publishCurrent does there).
    const retired = (await adoptSigningKey(database(env.DB), next, Date.now(), overlapMs)).find((key) => key.kid === old.kid);
    expect(retired).toBeDefined();
    await env.CACHE.put(kvKeys.pqcKeyRetirement(old.kid), String(retired!.retiresAt));

    const stolenKey = await mlDsaKeyFromSeed(before.seed);
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + KEY_STATUS_REFRESH_MS + 1); // the next request re-reads the marker
    expect(await verifies(await signPqc(pqcClaims({ sub: user.userId }), { key: stolenKey }), before)).toBe(200);
    vi.setSystemTime(retired!.retiresAt + 1);
    expect(await verifies(await signPqc(pqcClaims({ sub: user.userId }), { key: stolenKey }), before)).toBe(401);
  });

  it("moves only forward: an isolate still signing with the old key never retires the new one, and issues nothing with the retired key", async () => {
    const before = deployment();
    const after = deployment();
    newIsolate();
    const old = await issue(user, before);
    newIsolate();
    const current = await issue(user, after);
    const retiresAt = (await keyRow(old.kid))!.retires_at;

    newIsolate(); // an isolate of the old deployment, still running
    vi.spyOn(console, "error").mockImplementation(() => {});
    const stale = await requestPqcToken(headyme, { token: user.accessToken, handler: before.handler });
    expect(stale.status, stale.text).toBe(503);
    expect(stale.body.error.code).toBe("misconfigured");
    expect(await keyRow(current.kid)).toMatchObject({ retires_at: null });
    expect((await keyRow(old.kid))!.retires_at).toBe(retiresAt);
  });

  it("node tokens signed by the PQC signer (SAGE_TOKEN_ALG=ML-DSA-65) are not signed with a retired key either", async () => {
    const before = deployment({ SAGE_TOKEN_ALG: "ML-DSA-65" });
    const after = deployment({ SAGE_TOKEN_ALG: "ML-DSA-65" });
    const operator = await userWithRole("operator");
    const nodeToken = (from: Deployment) =>
      request("POST", "/api/sage/token", {
        token: operator.accessToken,
        body: { node_id: `node-${crypto.randomUUID().slice(0, 8)}`, role: "ui" },
        handler: from.handler,
      });
    newIsolate();
    await issue(user, before);
    newIsolate();
    const current = await issue(user, after);

    newIsolate(); // an isolate of the old deployment, still running
    vi.spyOn(console, "error").mockImplementation(() => {});
    const stale = await nodeToken(before);
    expect(stale.status, stale.text).toBe(503);
    expect(stale.body.error.code).toBe("misconfigured");
    const fresh = await nodeToken(after);
    expect(fresh.status, fresh.text).toBe(200);
    expect(decodeHeader(fresh.body.token).kid).toBe(current.kid);
  });

  it("adopting a key already known changes nothing, so two isolates racing retire the old key once, at the first adoption's time", async () => {
    const [first, second] = await Promise.all(
      [0, 1].map(async () => akpJwk((await mlDsaKeyFromSeed(crypto.getRandomValues(new Uint8Array(32)))).publicKey)),
    );
    const db = database(env.DB);
    const start = Date.now();
    await adoptSigningKey(db, first!, start, overlapMs);
    const retiredBySecond = await adoptSigningKey(db, second!, start + 10, overlapMs);
    expect(retiredBySecond.map((key) => key.kid)).toContain(first!.kid);
    expect(await adoptSigningKey(db, second!, start + 20, overlapMs)).toEqual([]);
    expect((await keyRow(first!.kid))!.retires_at).toBe(start + 10 + overlapMs);
  });

  it("the Cron Trigger notices a rotation without traffic and writes a lost retirement marker again", async () => {
    const before = deployment();
    const after = deployment();
    newIsolate();
    const old = await issue(user, before);
    newIsolate();
    await runMaintenance(after.bindings); // no token issued by the new deployment: the cron adopts its key
    const retiresAt = (await keyRow(old.kid))!.retires_at!;
    expect(retiresAt).toBeGreaterThan(Date.now());

    await env.CACHE.delete(kvKeys.pqcKeyRetirement(old.kid)); // a KV write lost in an outage
    await runMaintenance(after.bindings);
    expect(await env.CACHE.get(kvKeys.pqcKeyRetirement(old.kid))).toBe(String(retiresAt));
  });

  it("refuses an overlap shorter than the token lifetime plus the margin", () => {
    expect(() => loadConfig({ ...env, PQC_TOKEN_TTL_SECONDS: "300", PQC_KEY_OVERLAP_SECONDS: "320" } as Bindings)).toThrow(ConfigError);
    expect(() => loadConfig({ ...env, PQC_TOKEN_TTL_SECONDS: "300", PQC_KEY_OVERLAP_SECONDS: "330" } as Bindings)).not.toThrow();
  });
});

describe("the KMS alias moved back to a retired key (a hurried rollback, against the runbook)", () => {
  it("keeps the newer key current in the JWKS and drops the old one at its retirement, refuses issuance with 503, and the newer key's tokens verify", {
    timeout: 30_000,
  }, async () => {
    const tenant = await kmsTenant();
    const createKey = async () =>
      (await kmsManage(tenant, "CreateKey", { KeySpec: "ML_DSA_65", KeyUsage: "SIGN_VERIFY" })).KeyMetadata.Arn as string;
    const keyA = await createKey();
    const keyB = await createKey();
    const alias = `alias/headykey-pqc-rollback-${crypto.randomUUID().slice(0, 8)}`;
    await kmsManage(tenant, "CreateAlias", { AliasName: alias, TargetKeyId: keyA });
    // The shortest lifetimes allowed, so that A's retirement comes within the fake KMS's 5-minute SigV4 clock skew.
    const bindings = kmsBindings(tenant, { KMS_PQC_KEY_ID: alias, PQC_TOKEN_TTL_SECONDS: "60", PQC_KEY_OVERLAP_SECONDS: "90" });
    const worker = { handler: appWith(bindings) };
    const kmsKey = (keyId: string) =>
      new KmsClient({ ...tenant, region: env.AWS_REGION ?? "us-east-1", keyId, endpoint: env.TEST_KMS_ENDPOINT });
    const signedByKms = (keyId: string, kid: string) =>
      forgeJwt(
        { alg: "ML-DSA-65", typ: "pqc+jwt", kid },
        pqcClaims({ sub: user.userId }, "headyme", "sync", { exp: Math.floor(Date.now() / 1000) + 60 }),
        async (input) => (await kmsKey(keyId).sign(input)).signature,
      );

    newIsolate();
    const a = await issue(user, worker);
    await kmsManage(tenant, "UpdateAlias", { AliasName: alias, TargetKeyId: keyB });
    const b = await issue(user, worker); // the signer notices the new key on Sign and signs again under B
    expect(b.kid).not.toBe(a.kid);
    const retiresAt = (await keyRow(a.kid))!.retires_at!;
    expect(retiresAt).toBeGreaterThan(Date.now());

    await kmsManage(tenant, "UpdateAlias", { AliasName: alias, TargetKeyId: keyA }); // the rollback
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const refused = await requestPqcToken(headyme, { token: user.accessToken, handler: worker.handler });
    expect(refused.status, refused.text).toBe(503);
    expect(refused.body.error.code).toBe("misconfigured");
    expect(refused.body.error.message).toMatch(/retired by a key rotation/);
    expect(refused.headers.get("Retry-After")).toBeNull();
    expect(refused.text).not.toMatch(/eyJ[A-Za-z0-9_-]+\.eyJ/);
    expect(errors.mock.calls.map(([line]) => String(line)).find((line) => line.includes(a.kid))).toMatch(
      /refusing to issue a token with a retired key/,
    );
    // Nothing moved back in D1: B stays current, A keeps its retirement time.
    expect(await keyRow(b.kid)).toMatchObject({ retires_at: null });
    expect((await keyRow(a.kid))!.retires_at).toBe(retiresAt);

    // During A's overlap: B is published first (current), here and in a fresh isolate, and B's token verifies.
    expect((await pqcKids(worker.handler))[0]).toBe(b.kid);
    expect(await verifies(b.token, worker)).toBe(200);
    newIsolate();
    expect((await pqcKids(worker.handler))[0]).toBe(b.kid);
    expect(await verifies(b.token, worker)).toBe(200);

    // After A's retirement: the JWKS lists B first and never A; issuing is still refused; B's tokens verify, A's do not.
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(retiresAt + 1_000);
    for (const fresh of [false, true]) {
      if (fresh) newIsolate();
      const published = await pqcKids(worker.handler);
      expect(published[0]).toBe(b.kid);
      expect(published).not.toContain(a.kid);
      const again = await requestPqcToken(headyme, { token: user.accessToken, handler: worker.handler });
      expect(again.status, again.text).toBe(503);
      expect(again.body.error.code).toBe("misconfigured");
      expect(await verifies(await signedByKms(keyB, b.kid), worker)).toBe(200);
      expect(await verifies(await signedByKms(keyA, a.kid), worker)).toBe(401);
    }

    // The way out is forward: with the alias on B again, tokens are issued under B.
    await kmsManage(tenant, "UpdateAlias", { AliasName: alias, TargetKeyId: keyB });
    const recovered = await issue(user, worker);
    expect(recovered.kid).toBe(b.kid);
    expect(await verifies(recovered.token, worker)).toBe(200);
  });
});
