import { env } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sha256Hex } from "../../src/crypto/digest";
import { database } from "../../src/db/client";
import { PRUNE_GRACE_MS, pruneExpiredRows } from "../../src/db/prune";
import { pqcVerificationKey, resetPqcKeyringForTests } from "../../src/pqc/keyring";
import { createReference, resolveReference } from "../../src/pqc/references";
import { registerUser, type SignedIn } from "../support/accounts";
import { testConfig } from "../support/config";
import { base64url } from "../support/encoding";
import { kmsBindings, kmsMode, kmsStats, kmsTenant } from "../support/kms";
import {
  clientCertificate,
  type MlDsaTestKey,
  mlDsaKeyFromSeed,
  pqcClaims,
  randomFingerprint,
  requestPqcToken,
  signPqc,
  workerLocalKey,
  x5tS256,
} from "../support/pqc";
import {
  accessTokenKey,
  decodeHeader,
  decodePayload,
  flipSignatureByte,
  forgeJwt,
  hmacSigner,
  unsigned,
  verifyCall,
} from "../support/tokens";
import { appWith, request } from "../support/worker";

/** GET /api/auth/verify with PQC tokens and references: what passes, and everything that must not. */

let user: SignedIn;
let token: string;
let stranger: MlDsaTestKey;
const headyme = { service: "headyme", operation: "sync" } as const;

beforeAll(async () => {
  user = await registerUser();
  const issued = await requestPqcToken(headyme, { token: user.accessToken });
  expect(issued.status, issued.text).toBe(200);
  token = issued.body.pqcToken;
  stranger = await mlDsaKeyFromSeed(crypto.getRandomValues(new Uint8Array(32)));
});

function expectRefused(response: { status: number; body: any; headers: Headers }, message?: string) {
  expect(response.status, JSON.stringify(response.body)).toBe(401);
  expect(response.body.error.code).toBe("invalid_token");
  expect(response.headers.get("WWW-Authenticate")).toBe('Bearer error="invalid_token"');
  if (message) expect(response.body.error.message).toBe(message);
}

/** Sends `pqcToken` both ways the verifier reads it, and expects both refused. */
async function expectRefusedEitherWay(pqcToken: string) {
  expectRefused(await verifyCall({ pqc: pqcToken }));
  expectRefused(await verifyCall({ token: pqcToken }));
}

const expectedVerification = (claims: Record<string, unknown>, reference: boolean) => ({
  valid: true,
  kind: "pqc_token",
  sub: claims.sub,
  role: claims.role,
  email: "",
  exp: claims.exp,
  service: claims.service,
  operation: claims.operation,
  permissions: claims.permissions,
  jti: claims.jti,
  reference,
});

describe("valid PQC credentials", () => {
  it("accepts the token in X-Heady-PQC-Token and as a Bearer token", async () => {
    for (const response of [await verifyCall({ pqc: token }), await verifyCall({ token })]) {
      expect(response.status, response.text).toBe(200);
      expect(response.body).toEqual(expectedVerification(decodePayload(token), false));
    }
  });

  it("accepts a reference in X-Heady-PQC-Token and as a Bearer token, answering the token's claims", async () => {
    const issued = await requestPqcToken({ ...headyme, reference: true }, { token: user.accessToken });
    const stored = await storedToken(issued.body.reference);
    for (const response of [await verifyCall({ pqc: issued.body.reference }), await verifyCall({ token: issued.body.reference })]) {
      expect(response.status, response.text).toBe(200);
      expect(response.body).toEqual(expectedVerification(decodePayload(stored!), true));
    }
  });

  it("accepts a token the test signs itself with noble and the Worker's local seed (control for the forgeries below)", async () => {
    const claims = pqcClaims({ sub: user.userId });
    const response = await verifyCall({ pqc: await signPqc(claims) });
    expect(response.status, response.text).toBe(200);
    expect(response.body).toEqual(expectedVerification(claims, false));
  });
});

describe("tampered, truncated and expired tokens are refused", () => {
  it("a flipped signature bit", async () => {
    await expectRefusedEitherWay(flipSignatureByte(token));
    await expectRefusedEitherWay(flipSignatureByte(token, 3000));
  });

  it("a payload changed after signing (another service, a later exp)", async () => {
    const [header, , signature] = token.split(".");
    for (const change of [{ service: "admin", operation: "manage" }, { exp: (decodePayload(token).exp as number) + 60 }]) {
      const payload = base64url(JSON.stringify({ ...decodePayload(token), ...change }));
      await expectRefusedEitherWay(`${header}.${payload}.${signature}`);
    }
  });

  it("truncated: a shortened signature, no signature, two segments", async () => {
    const [header, payload] = token.split(".");
    await expectRefusedEitherWay(token.slice(0, -100));
    await expectRefusedEitherWay(token.slice(0, -1));
    await expectRefusedEitherWay(token.slice(0, -2));
    await expectRefusedEitherWay(`${header}.${payload}.`);
    expectRefused(await verifyCall({ pqc: `${header}.${payload}` }));
    expectRefused(await verifyCall({ pqc: token.slice(0, 2000) }));
  });

  it("truncated to a signature segment whose length no base64url encoding can have (1 mod 4): 401, never 500", async () => {
    const signatureLength = token.split(".")[2]!.length;
    const cut = token.slice(0, token.length - ((signatureLength - 1) % 4) - 4);
    expect(cut.split(".")[2]!.length % 4).toBe(1);
    await expectRefusedEitherWay(cut);
  });

  it("expired (signed by the Worker's key with the same claims and a past exp)", async () => {
    const now = Math.floor(Date.now() / 1000);
    await expectRefusedEitherWay(await signPqc(pqcClaims({ sub: user.userId }, "headyme", "sync", { iat: now - 400, exp: now - 100 })));
    await expectRefusedEitherWay(await signPqc(pqcClaims({ sub: user.userId }, "headyme", "sync", { iat: now - 300, exp: now })));
  });

  it("a lifetime over 300 s, even though the signature is good", async () => {
    const now = Math.floor(Date.now() / 1000);
    await expectRefusedEitherWay(await signPqc(pqcClaims({ sub: user.userId }, "headyme", "sync", { iat: now, exp: now + 301 })));
  });

  it("another issuer or audience, or a missing required claim", async () => {
    const claims = (overrides: Record<string, unknown>) => pqcClaims({ sub: user.userId }, "headyme", "sync", overrides);
    for (const overrides of [
      { iss: "https://evil.test" },
      { aud: "heady-api" },
      { heady_ctx: undefined },
      { jti: undefined },
      { role: "root" },
    ]) {
      await expectRefusedEitherWay(await signPqc(claims(overrides)));
    }
  });
});

describe("kid and alg: the key decides, never the header", () => {
  it("a token signed by another ML-DSA-65 key under its own kid", async () => {
    await expectRefusedEitherWay(await signPqc(pqcClaims({ sub: user.userId }), { key: stranger }));
  });

  it("a token signed by another key claiming the Worker's kid", async () => {
    const { kid } = await workerLocalKey();
    await expectRefusedEitherWay(await signPqc(pqcClaims({ sub: user.userId }), { key: stranger, header: { kid } }));
  });

  it("the Worker's signature with the kid changed, or removed", async () => {
    await expectRefusedEitherWay(await signPqc(pqcClaims({ sub: user.userId }), { header: { kid: stranger.kid } }));
    await expectRefusedEitherWay(await signPqc(pqcClaims({ sub: user.userId }), { header: { kid: undefined } }));
    const { kid } = await workerLocalKey();
    await expectRefusedEitherWay(await signPqc(pqcClaims({ sub: user.userId }), { header: { kid: `${kid} ` } }));
  });

  it("alg swapped to HS256 (keyed with the public key, or with the access-token secret) or none", async () => {
    const local = await workerLocalKey();
    const claims = pqcClaims({ sub: user.userId });
    const header = { alg: "HS256", typ: "pqc+jwt", kid: local.kid };
    await expectRefusedEitherWay(await forgeJwt(header, claims, hmacSigner(local.publicKey as Uint8Array<ArrayBuffer>)));
    await expectRefusedEitherWay(
      await forgeJwt(header, claims, hmacSigner(new TextEncoder().encode(base64url(local.publicKey)) as Uint8Array<ArrayBuffer>)),
    );
    await expectRefusedEitherWay(await forgeJwt(header, claims, (await accessTokenKey()).sign));
    const none = await forgeJwt({ alg: "none", typ: "pqc+jwt", kid: local.kid }, claims, unsigned);
    await expectRefusedEitherWay(none);
    await expectRefusedEitherWay(`${none}${base64url(new Uint8Array(3309))}`);
    // Even the right signature under another alg name.
    for (const alg of ["ML-DSA-44", "ML-DSA-87", "EdDSA"]) await expectRefusedEitherWay(await signPqc(claims, { header: { alg } }));
  });

  it("header members that RFC 8725 says never to honour (jwk, jku, x5u, crit)", async () => {
    const local = await workerLocalKey();
    const jwk = { kty: "AKP", alg: "ML-DSA-65", pub: base64url(stranger.publicKey) };
    for (const extra of [{ jwk }, { jku: "https://evil.test/jwks.json" }, { x5u: "https://evil.test/cert.pem" }, { crit: ["exp"] }]) {
      await expectRefusedEitherWay(await signPqc(pqcClaims({ sub: user.userId }), { header: extra }));
      await expectRefusedEitherWay(await signPqc(pqcClaims({ sub: user.userId }), { key: stranger, header: { ...extra, kid: local.kid } }));
    }
  });
});

describe("kid must be a thumbprint before anything is looked up", () => {
  /** Over KV's 512-byte key limit once prefixed: before the format check, KV's exception was a 500. */
  const longKid = "A".repeat(600);

  it("a PQC-shaped token with a 600-character kid is 401 invalid_token on /verify, /me and the gateway, never 500", async () => {
    const forged = await signPqc(pqcClaims({ sub: user.userId }), { header: { kid: longKid } });
    await expectRefusedEitherWay(forged);
    expectRefused(await request("GET", "/api/auth/me", { token: forged }));
    expectRefused(await request("GET", "/api/auth/me", { pqc: forged }));
    const gateway = await request("POST", "/gw/api/sync/privileged-operation", { pqc: forged });
    expect(gateway.status, gateway.text).toBe(401);
    expect(gateway.body.error.code).toBe("invalid_token");
  });

  it("kids of other shapes are refused the same way: 42 or 44 characters, non-base64url, a control character", async () => {
    const { kid } = await workerLocalKey();
    for (const bad of [kid.slice(1), `${kid}A`, `${kid.slice(1)}+`, `${kid.slice(1)}\n`, `${kid.slice(1)}%`]) {
      await expectRefusedEitherWay(await signPqc(pqcClaims({ sub: user.userId }), { header: { kid: bad } }));
    }
  });

  it("the keyring answers no key for a kid that is no thumbprint, without asking KV", async () => {
    const { kid } = await workerLocalKey();
    const config = testConfig();
    resetPqcKeyringForTests();
    expect(await pqcVerificationKey(config, env.CACHE, longKid)).toBeUndefined();
    expect(await pqcVerificationKey(config, env.CACHE, `${kid}\n`)).toBeUndefined();
    expect((await pqcVerificationKey(config, env.CACHE, kid))?.kid).toBe(kid);
  });
});

describe("token kinds never cross", () => {
  it("a token with typ at+jwt is not a PQC token, even with a good ML-DSA signature", async () => {
    const atJwt = await signPqc(pqcClaims({ sub: user.userId }), { header: { typ: "at+jwt" } });
    await expectRefusedEitherWay(atJwt);
    await expectRefusedEitherWay(await signPqc(pqcClaims({ sub: user.userId }), { header: { typ: undefined } }));
    await expectRefusedEitherWay(await signPqc(pqcClaims({ sub: user.userId }), { header: { typ: "JWT" } }));
  });

  it("an access token presented as a PQC token is refused; the same token as Bearer is an access token", async () => {
    expectRefused(await verifyCall({ pqc: user.accessToken }));
    const asBearer = await verifyCall({ token: user.accessToken });
    expect(asBearer.status).toBe(200);
    expect(asBearer.body.kind).toBe("access_token");
  });

  it("a PQC token with pqc+jwt claims but an HS256 signature by the access-token key is refused", async () => {
    const key = await accessTokenKey();
    const forged = await forgeJwt({ alg: "HS256", typ: "pqc+jwt", kid: key.kid }, pqcClaims({ sub: user.userId }), key.sign);
    await expectRefusedEitherWay(forged);
  });
});

describe("certificate-bound tokens (cnf x5t#S256)", () => {
  let fingerprint: string;
  let bound: string;
  beforeAll(async () => {
    fingerprint = randomFingerprint();
    const issued = await requestPqcToken(headyme, { token: user.accessToken, cf: clientCertificate(fingerprint) });
    expect(issued.status, issued.text).toBe(200);
    bound = issued.body.pqcToken;
    expect(decodePayload(bound).cnf).toEqual({ "x5t#S256": x5tS256(fingerprint) });
  });

  const boundMessage = "The PQC token is bound to a client certificate this connection did not present.";

  it("is refused without a certificate", async () => {
    expectRefused(await verifyCall({ pqc: bound }), boundMessage);
    expectRefused(await verifyCall({ token: bound }), boundMessage);
  });

  it("is refused with another certificate, or with the right one unverified", async () => {
    expectRefused(await verifyCall({ pqc: bound, cf: clientCertificate(randomFingerprint()) }), boundMessage);
    expectRefused(await verifyCall({ pqc: bound, cf: clientCertificate(fingerprint, "FAILED:certificate has expired") }), boundMessage);
    expectRefused(
      await verifyCall({
        pqc: bound,
        cf: { tlsClientAuth: { certPresented: "0", certVerified: "NONE", certFingerprintSHA256: fingerprint } },
      }),
      boundMessage,
    );
  });

  it("is accepted with the right certificate (as Cloudflare reports its fingerprint)", async () => {
    const response = await verifyCall({ pqc: bound, cf: clientCertificate(fingerprint) });
    expect(response.status, response.text).toBe(200);
    expect(response.body).toEqual(expectedVerification(decodePayload(bound), false));
    expect((await verifyCall({ token: bound, cf: clientCertificate(fingerprint.toUpperCase()) })).status).toBe(200);
  });

  it("a bound reference is bound too", async () => {
    const issued = await requestPqcToken({ ...headyme, reference: true }, { token: user.accessToken, cf: clientCertificate(fingerprint) });
    expectRefused(await verifyCall({ pqc: issued.body.reference }), boundMessage);
    expect((await verifyCall({ pqc: issued.body.reference, cf: clientCertificate(fingerprint) })).status).toBe(200);
  });
});

/** The token a reference stands for, as D1 holds it. */
async function storedToken(reference: string): Promise<string | undefined> {
  const row = await env.DB.prepare("SELECT token FROM pqc_references WHERE reference_hash = ?")
    .bind(await sha256Hex(reference))
    .first<{ token: string }>();
  return row?.token;
}

describe("references: stored in D1, expiring with their token", () => {
  const db = () => database(env.DB);
  const rowCount = async (reference: string) =>
    (await env.DB.prepare("SELECT count(*) AS n FROM pqc_references WHERE reference_hash = ?")
      .bind(await sha256Hex(reference))
      .first<{ n: number }>())!.n;

  it("an issued reference resolves on the very next request, with KV out of the picture", async () => {
    const issued = await requestPqcToken({ ...headyme, reference: true }, { token: user.accessToken });
    // KV is not read-after-write across locations; a reference must not depend on it at all.
    expect((await env.CACHE.list({ prefix: "pqc:ref:" })).keys).toEqual([]);
    const response = await verifyCall({ pqc: issued.body.reference });
    expect(response.status, response.text).toBe(200);
    expect(response.body.reference).toBe(true);
  });

  it("a reference whose token has expired is refused, by its row's expires_at as well as the token's exp", async () => {
    const now = Math.floor(Date.now() / 1000);
    const shortLived = await signPqc(pqcClaims({ sub: user.userId }, "headyme", "sync", { iat: now, exp: now + 2 }));
    const reference = await createReference(db(), shortLived, decodePayload(shortLived) as { jti: string; exp: number });
    const fresh = await verifyCall({ pqc: reference });
    expect(fresh.status, fresh.text).toBe(200);
    expect(fresh.body.reference).toBe(true);

    while (Date.now() / 1000 < now + 2) await new Promise((resolve) => setTimeout(resolve, 250));
    expect(await resolveReference(db(), reference)).toBeUndefined();
    expectRefused(await verifyCall({ pqc: reference }), "The PQC reference is unknown or expired.");
    expectRefused(await verifyCall({ token: reference }), "The PQC reference is unknown or expired.");
  });

  it("a row whose expires_at is later than the token's exp still does not outlive the token", async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = await signPqc(pqcClaims({ sub: user.userId }, "headyme", "sync", { iat: now - 200, exp: now - 1 }));
    const reference = await createReference(db(), expired, { jti: crypto.randomUUID(), exp: now + 300 });
    expectRefused(await verifyCall({ pqc: reference }));
  });

  it("a reference whose row is gone, or that never existed, is refused", async () => {
    const issued = await requestPqcToken({ ...headyme, reference: true }, { token: user.accessToken });
    await env.DB.prepare("DELETE FROM pqc_references WHERE reference_hash = ?")
      .bind(await sha256Hex(issued.body.reference))
      .run();
    const message = "The PQC reference is unknown or expired.";
    expectRefused(await verifyCall({ pqc: issued.body.reference }), message);
    expectRefused(await verifyCall({ token: base64url(crypto.getRandomValues(new Uint8Array(32))) }), message);
  });

  it("the scheduled cleanup removes expired rows only (after its grace), and says how many", async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await signPqc(pqcClaims({ sub: user.userId }));
    const [gone, alsoGone, kept] = await Promise.all([
      createReference(db(), token, { jti: crypto.randomUUID(), exp: now - 10 }),
      createReference(db(), token, { jti: crypto.randomUUID(), exp: now }),
      createReference(db(), token, { jti: crypto.randomUUID(), exp: now + 2 * 60 * 60 }),
    ]);
    const cleanupAt = now * 1000 + PRUNE_GRACE_MS + 1;
    expect((await pruneExpiredRows(db(), cleanupAt)).pqc_references).toBeGreaterThanOrEqual(2);
    expect([await rowCount(gone), await rowCount(alsoGone), await rowCount(kept)]).toEqual([0, 0, 1]);
    expect((await pruneExpiredRows(db(), cleanupAt)).pqc_references).toBe(0);
  });
});

describe("an unknown kid does not hammer the signer (KMS: single flight, at most once a minute)", () => {
  // These tests reset the isolate's keyring and point the signer at the fake KMS; put things back after.
  afterAll(() => resetPqcKeyringForTests());

  const junkTokens = (count: number) =>
    Promise.all(
      Array.from({ length: count }, async () => {
        const key = await mlDsaKeyFromSeed(crypto.getRandomValues(new Uint8Array(32)));
        return signPqc(pqcClaims({ sub: user.userId }), { key });
      }),
    );

  it("a burst of unknown kids makes one GetPublicKey call, and more unknown kids in the same minute make none", async () => {
    resetPqcKeyringForTests();
    const tenant = await kmsTenant();
    const handler = appWith(kmsBindings(tenant));
    const burst = await Promise.all((await junkTokens(20)).map((junk) => verifyCall({ pqc: junk, handler })));
    for (const response of burst) expectRefused(response);
    expect((await kmsStats(tenant)).calls.GetPublicKey).toBe(1);

    for (const junk of await junkTokens(10)) expectRefused(await verifyCall({ pqc: junk, handler }));
    expect((await kmsStats(tenant)).calls.GetPublicKey).toBe(1);
  });

  it("with KMS failing, a burst of unknown kids makes one (retried) fetch, and then none for a minute", async () => {
    resetPqcKeyringForTests();
    const tenant = await kmsTenant();
    await kmsMode(tenant, "down", { operations: ["GetPublicKey"] });
    const handler = appWith(kmsBindings(tenant));
    const burst = await Promise.all((await junkTokens(20)).map((junk) => verifyCall({ pqc: junk, handler })));
    for (const response of burst) expectRefused(response);
    const afterBurst = (await kmsStats(tenant)).calls.GetPublicKey;
    expect(afterBurst).toBe(3); // one fetch: the KMS client's 3 attempts

    for (const junk of await junkTokens(10)) expectRefused(await verifyCall({ pqc: junk, handler }));
    expect((await kmsStats(tenant)).calls.GetPublicKey).toBe(afterBurst);
  });
});

describe("the kid a token names is matched exactly", () => {
  it("a token whose kid differs only in case is refused", async () => {
    const { kid } = decodeHeader(token) as { kid: string };
    const swapped = kid.replace(/[a-z]/, (c) => c.toUpperCase());
    expect(swapped).not.toBe(kid);
    await expectRefusedEitherWay(await signPqc(pqcClaims({ sub: user.userId }), { header: { kid: swapped } }));
  });
});
