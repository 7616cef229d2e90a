import { env } from "cloudflare:workers";
import { calculateJwkThumbprint } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { sha256Hex } from "../../src/crypto/digest";
import { nobleMlDsa65 } from "../../src/crypto/ml-dsa";
import { PQC_ISSUE_PER_CALLER } from "../../src/rate-limit/limits";
import { apiKeyFor, registerUser, type SignedIn, userWithRole } from "../support/accounts";
import { testConfig } from "../support/config";
import { fromBase64url } from "../support/encoding";
import { clientCertificate, type JwksKey, jwks, pqcClaims, randomFingerprint, requestPqcToken, signPqc, x5tS256 } from "../support/pqc";
import { decodeHeader, decodePayload } from "../support/tokens";
import { appWith } from "../support/worker";

/** POST /api/auth/request-pqc-token: who may ask, for what, and exactly what comes back. */

let user: SignedIn;
beforeAll(async () => {
  user = await registerUser();
});

const headyme = { service: "headyme", operation: "sync" } as const;

function expectError(response: { status: number; body: any }, status: number, code: string) {
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  expect(response.body.error.code).toBe(code);
  expect(response.body.error.requestId).toMatch(/^[0-9a-f-]{36}$/);
}

async function pqcKey(kid: string): Promise<JwksKey> {
  const key = (await jwks()).find((candidate) => candidate.kid === kid);
  if (!key) throw new Error(`kid ${kid} is not in the JWKS`);
  return key;
}

describe("a token for an access-token caller", () => {
  let response: Awaited<ReturnType<typeof requestPqcToken>>;
  let token: string;
  beforeAll(async () => {
    response = await requestPqcToken(headyme, { token: user.accessToken });
    token = response.body.pqcToken;
  });

  it("answers exactly {pqcToken, expiresIn, service, operation}, not cacheable", () => {
    expect(response.status, response.text).toBe(200);
    expect(response.body).toEqual({
      pqcToken: expect.any(String),
      expiresIn: testConfig().pqc.tokenTtlSeconds,
      service: "headyme",
      operation: "sync",
    });
    expect(response.headers.get("Cache-Control")).toBe("no-store");
  });

  it("has exactly the header {alg: ML-DSA-65, typ: pqc+jwt, kid} and a 3309-byte signature", () => {
    const header = decodeHeader(token);
    expect(header).toEqual({ alg: "ML-DSA-65", typ: "pqc+jwt", kid: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    const parts = token.split(".");
    expect(parts).toHaveLength(3);
    expect(fromBase64url(parts[2]!)).toHaveLength(3309);
    console.info(`PQC token size: ${token.length} bytes`);
    expect(token.length).toBeGreaterThan(4400);
  });

  it("carries the claims docs/api.md documents, for this user and the configured service context", () => {
    const claims = decodePayload(token);
    const config = testConfig();
    const context = config.pqc.services.headyme!;
    expect(claims).toEqual({
      iss: config.issuer,
      aud: "heady-pqc",
      sub: user.userId,
      role: "user",
      service: "headyme",
      operation: "sync",
      permissions: context.operations.sync,
      iat: expect.any(Number),
      exp: expect.any(Number),
      jti: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
      heady_ctx: { service_id: context.serviceId, endpoint: context.endpoint, mtls_cert: null },
    });
    expect(context.operations.sync).toEqual(["sync:read", "sync:write"]);
    const lifetime = (claims.exp as number) - (claims.iat as number);
    expect(lifetime).toBeLessThanOrEqual(300);
    expect(lifetime).toBe(response.body.expiresIn);
    expect(Math.abs((claims.iat as number) - Date.now() / 1000)).toBeLessThan(30);
    expect(claims).not.toHaveProperty("cnf");
  });

  it("every token has its own jti", async () => {
    const again = await requestPqcToken(headyme, { token: user.accessToken });
    expect(decodePayload(again.body.pqcToken).jti).not.toBe(decodePayload(token).jti);
  });

  it("kid is the RFC 7638 thumbprint of an AKP key published in /.well-known/jwks.json", async () => {
    const { kid } = decodeHeader(token) as { kid: string };
    const key = await pqcKey(kid);
    expect(key).toEqual({ kty: "AKP", alg: "ML-DSA-65", pub: expect.any(String), kid, use: "sig" });
    expect(fromBase64url(key.pub!)).toHaveLength(1952);
    expect(await calculateJwkThumbprint({ kty: "AKP", alg: "ML-DSA-65", pub: key.pub! })).toBe(kid);
    // The published key is the seed's public key, and the private part is never published.
    expect(JSON.stringify(await jwks())).not.toContain('"priv"');
  });

  it("verifies with noble on the JWKS public key alone (not the Worker's WebCrypto path)", async () => {
    const [header, payload, signature] = token.split(".") as [string, string, string];
    const key = await pqcKey(decodeHeader(token).kid as string);
    const verify = await nobleMlDsa65.verifier(fromBase64url(key.pub!));
    const input = new TextEncoder().encode(`${header}.${payload}`) as Uint8Array<ArrayBuffer>;
    expect(await verify(input, fromBase64url(signature))).toBe(true);
    const changed = new TextEncoder().encode(`${header}.${payload}A`) as Uint8Array<ArrayBuffer>;
    expect(await verify(changed, fromBase64url(signature))).toBe(false);
  });
});

describe("the lifetime is configuration, never more than 300 s", () => {
  it("PQC_TOKEN_TTL_SECONDS=120 gives 120-second tokens", async () => {
    const response = await requestPqcToken(headyme, {
      token: user.accessToken,
      handler: appWith({ ...env, PQC_TOKEN_TTL_SECONDS: "120" }),
    });
    expect(response.status, response.text).toBe(200);
    expect(response.body.expiresIn).toBe(120);
    const claims = decodePayload(response.body.pqcToken);
    expect((claims.exp as number) - (claims.iat as number)).toBe(120);
  });

  it("a configured lifetime over 300 s stops the Worker (503 misconfigured) rather than issuing such a token", async () => {
    const response = await requestPqcToken(headyme, {
      token: user.accessToken,
      handler: appWith({ ...env, PQC_TOKEN_TTL_SECONDS: "301" }),
    });
    expectError(response, 503, "misconfigured");
    expect(response.body).not.toHaveProperty("pqcToken");
  });
});

const referenceRow = (hash: string) =>
  env.DB.prepare("SELECT token, jti, expires_at FROM pqc_references WHERE reference_hash = ?")
    .bind(hash)
    .first<{ token: string; jti: string; expires_at: number }>();

describe("a reference instead of the token", () => {
  it("answers exactly {reference, expiresIn}: 32 random bytes base64url; D1 holds the token under the reference's hash", async () => {
    const response = await requestPqcToken({ ...headyme, reference: true }, { token: user.accessToken });
    expect(response.status, response.text).toBe(200);
    expect(response.body).toEqual({ reference: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), expiresIn: testConfig().pqc.tokenTtlSeconds });
    expect(fromBase64url(response.body.reference)).toHaveLength(32);
    expect(response.headers.get("Cache-Control")).toBe("no-store");

    // Written in the issuing request to D1, which reads its own writes (KV may not, for up to a minute, elsewhere).
    const row = await referenceRow(await sha256Hex(response.body.reference));
    expect(row).not.toBeNull();
    const claims = decodePayload(row!.token);
    expect(claims).toMatchObject({ sub: user.userId, service: "headyme", operation: "sync" });
    expect(row!.jti).toBe(claims.jti);
    expect(row!.expires_at).toBe((claims.exp as number) * 1000);
    // The reference itself is not stored: only its hash is. And KV holds no copy.
    expect(await referenceRow(response.body.reference)).toBeNull();
    expect((await env.CACHE.list({ prefix: "pqc:ref:" })).keys).toEqual([]);

    const second = await requestPqcToken({ ...headyme, reference: true }, { token: user.accessToken });
    expect(second.body.reference).not.toBe(response.body.reference);
  });
});

describe("API keys", () => {
  it("a key with scope pqc gets a token for its owner", async () => {
    const key = await apiKeyFor(user, ["pqc"]);
    const response = await requestPqcToken(headyme, { apiKey: key });
    expect(response.status, response.text).toBe(200);
    expect(decodePayload(response.body.pqcToken)).toMatchObject({ sub: user.userId, service: "headyme", operation: "sync" });
  });

  it("a key with scope pqc:<service> gets tokens for that service only", async () => {
    const key = await apiKeyFor(user, ["pqc:headyme"]);
    expect((await requestPqcToken(headyme, { apiKey: key })).status).toBe(200);
    const admin = await userWithRole("admin");
    const adminKey = await apiKeyFor(admin, ["pqc:headyme"], "admin");
    const other = await call403(requestPqcToken({ service: "admin", operation: "manage" }, { apiKey: adminKey }));
    expect(other.body.error.message).toContain("pqc or pqc:admin");
  });

  it("a key without a pqc scope is refused with 403", async () => {
    const key = await apiKeyFor(user, ["sync:read"]);
    const response = await call403(requestPqcToken(headyme, { apiKey: key }));
    expect(response.body.error.message).toContain("pqc or pqc:headyme");
    const unscoped = await apiKeyFor(user, []);
    await call403(requestPqcToken(headyme, { apiKey: unscoped }));
  });
});

async function call403(pending: ReturnType<typeof requestPqcToken>) {
  const response = await pending;
  expectError(response, 403, "forbidden");
  expect(response.body).not.toHaveProperty("pqcToken");
  return response;
}

describe("roles: each service has a minimum role (configuration, not code)", () => {
  it("a guest may not ask for headyme (minRole user)", async () => {
    const guest = await userWithRole("guest");
    const response = await call403(requestPqcToken(headyme, { token: guest.accessToken }));
    expect(response.body.error.message).toContain("requires the user role");
  });

  it("a user may not ask for production (operator) or admin (admin); an operator and an admin may", async () => {
    await call403(requestPqcToken({ service: "production", operation: "deploy" }, { token: user.accessToken }));
    await call403(requestPqcToken({ service: "admin", operation: "manage" }, { token: user.accessToken }));
    const operator = await userWithRole("operator");
    const deploy = await requestPqcToken({ service: "production", operation: "deploy" }, { token: operator.accessToken });
    expect(deploy.status, deploy.text).toBe(200);
    expect(decodePayload(deploy.body.pqcToken)).toMatchObject({ role: "operator", permissions: ["repo:read", "repo:deploy"] });
    await call403(requestPqcToken({ service: "admin", operation: "manage" }, { token: operator.accessToken }));
    const admin = await userWithRole("admin");
    expect((await requestPqcToken({ service: "admin", operation: "manage" }, { token: admin.accessToken })).status).toBe(200);
  });
});

describe("bad requests", () => {
  it("an unknown service or operation is a 400", async () => {
    expectError(await requestPqcToken({ service: "nosuch", operation: "sync" }, { token: user.accessToken }), 400, "invalid_request");
    expectError(await requestPqcToken({ service: "headyme", operation: "deploy" }, { token: user.accessToken }), 400, "invalid_request");
    expectError(await requestPqcToken({ service: "Headyme", operation: "sync" }, { token: user.accessToken }), 400, "invalid_request");
  });

  it("names Object.prototype holds are no services or operations: constructor is a 400, never a token or a 500", async () => {
    expectError(
      await requestPqcToken({ service: "headyme", operation: "constructor" }, { token: user.accessToken }),
      400,
      "invalid_request",
    );
    expectError(await requestPqcToken({ service: "constructor", operation: "sync" }, { token: user.accessToken }), 400, "invalid_request");
    expectError(
      await requestPqcToken({ service: "constructor", operation: "constructor" }, { token: user.accessToken }),
      400,
      "invalid_request",
    );
  });

  it("no credential is a 401 with WWW-Authenticate", async () => {
    const response = await requestPqcToken(headyme);
    expectError(response, 401, "unauthorized");
    expect(response.headers.get("WWW-Authenticate")).toContain("Bearer");
  });

  it("an invalid access token is a 401, not a fall-through to another credential", async () => {
    expectError(await requestPqcToken(headyme, { token: `${user.accessToken.slice(0, -2)}xx` }), 401, "invalid_token");
  });
});

describe("mTLS client certificates", () => {
  it("a caller known only by a verified certificate gets a bound token for a service with allowMtls", async () => {
    const fingerprint = randomFingerprint();
    const response = await requestPqcToken({ service: "production", operation: "clone" }, { cf: clientCertificate(fingerprint) });
    expect(response.status, response.text).toBe(200);
    const thumbprint = x5tS256(fingerprint);
    const claims = decodePayload(response.body.pqcToken);
    expect(claims).toMatchObject({
      sub: `cert:${thumbprint}`,
      role: "guest",
      service: "production",
      operation: "clone",
      cnf: { "x5t#S256": thumbprint },
      heady_ctx: { service_id: "svc-production-repos", endpoint: "https://repos.heady.systems/api/repo", mtls_cert: thumbprint },
    });
  });

  it("a certificate alone is refused for a service without allowMtls", async () => {
    await call403(requestPqcToken(headyme, { cf: clientCertificate(randomFingerprint()) }));
  });

  it("a certificate the edge did not verify counts as none", async () => {
    const response = await requestPqcToken(
      { service: "production", operation: "clone" },
      { cf: clientCertificate(randomFingerprint(), "FAILED:self signed certificate") },
    );
    expectError(response, 401, "unauthorized");
  });

  it("a signed-in user who also presents a certificate gets a token bound to it", async () => {
    const fingerprint = randomFingerprint();
    const response = await requestPqcToken(headyme, { token: user.accessToken, cf: clientCertificate(fingerprint) });
    expect(response.status, response.text).toBe(200);
    expect(decodePayload(response.body.pqcToken)).toMatchObject({ sub: user.userId, cnf: { "x5t#S256": x5tS256(fingerprint) } });
  });
});

describe("a PQC token cannot mint another", () => {
  it("refuses a PQC token as Bearer, in X-Heady-PQC-Token, and as a reference", async () => {
    const issued = await requestPqcToken(headyme, { token: user.accessToken });
    const reference = await requestPqcToken({ ...headyme, reference: true }, { token: user.accessToken });
    await call403(requestPqcToken(headyme, { token: issued.body.pqcToken }));
    await call403(requestPqcToken(headyme, { pqc: issued.body.pqcToken }));
    await call403(requestPqcToken(headyme, { token: reference.body.reference }));
  });

  it("also one the test signs itself with the Worker's key", async () => {
    const token = await signPqc(pqcClaims({ sub: user.userId }));
    await call403(requestPqcToken(headyme, { token }));
  });
});

describe("rate limit per caller", () => {
  it(`allows ${PQC_ISSUE_PER_CALLER.limit} tokens a minute to one caller, then 429 with Retry-After; others are unaffected`, async () => {
    const caller = await registerUser();
    for (let i = 0; i < PQC_ISSUE_PER_CALLER.limit; i++) {
      const response = await requestPqcToken(headyme, { token: caller.accessToken });
      expect(response.status, `request ${i + 1}: ${response.text}`).toBe(200);
    }
    const limited = await requestPqcToken(headyme, { token: caller.accessToken });
    expectError(limited, 429, "rate_limited");
    expect(Number(limited.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(limited.body).not.toHaveProperty("pqcToken");
    // Per caller, not per IP or globally: the same caller through an API key is the same caller...
    const key = await apiKeyFor(caller, ["pqc"]);
    expectError(await requestPqcToken(headyme, { apiKey: key }), 429, "rate_limited");
    // ...and another caller is not limited.
    expect((await requestPqcToken(headyme, { token: user.accessToken })).status).toBe(200);
  });
});
