import { env } from "cloudflare:workers";
import { calculateJwkThumbprint, decodeProtectedHeader, importJWK, type JWK, jwtVerify } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { fromBase64Url } from "../../src/crypto/encoding";
import { rs256KeyPairFromPkcs8 } from "../../src/crypto/rsa";
import { NODE_TOKEN_ISSUE_PER_CALLER } from "../../src/routes/node-tokens";
import { apiKeyFor, HASHING_HEAVY } from "../support/accounts";
import { testConfig } from "../support/config";
import { type Account, accountWithRole, nodeAuditEvents, uniqueNodeId } from "../support/mesh";
import { decodePayload } from "../support/tokens";
import { request } from "../support/worker";

let operator: Account;
let admin: Account;
let user: Account;
let bootstrapKey: string;
let uiOnlyBootstrapKey: string;
let plainKey: string;

beforeAll(async () => {
  [operator, admin, user] = await Promise.all([accountWithRole("operator"), accountWithRole("admin"), accountWithRole("user")]);
  // Only an operator (who can issue node tokens itself) may grant the bootstrap scopes; the keys act as users.
  bootstrapKey = await apiKeyFor(operator, ["sage:bootstrap"]);
  uiOnlyBootstrapKey = await apiKeyFor(operator, ["sage:bootstrap:ui"]);
  plainKey = await apiKeyFor(user, ["pqc"]);
}, HASHING_HEAVY.timeout);

const issue = (body: unknown, credential: { token?: string; apiKey?: string } = { token: operator.accessToken }) =>
  request("POST", "/api/sage/token", {
    body,
    token: credential.token,
    headers: credential.apiKey ? { "X-API-Key": credential.apiKey } : {},
  });

/** The SAGE key as published: the one RSA key whose kid is the configured SAGE key's (the OAuth provider publishes RS256 keys too). */
async function sageJwk(): Promise<JWK & { kid: string }> {
  const { keys } = (await request("GET", "/.well-known/jwks.json")).body as { keys: (JWK & { kid: string })[] };
  const { kid } = await rs256KeyPairFromPkcs8(fromBase64Url(testConfig().mesh.nodeTokenPrivateKey!)).then((pair) => pair.publicJwk);
  const rsa = keys.filter((key) => key.kty === "RSA" && key.kid === kid);
  expect(rsa).toHaveLength(1);
  return rsa[0]!;
}

describe("POST /api/sage/token: issuing", () => {
  it("issues an RS256 mesh+jwt with the role's default topics that verifies against the published key", async () => {
    const nodeId = uniqueNodeId("mirror");
    const response = await issue({ node_id: nodeId, role: "ui" });
    expect(response.status).toBe(200);
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    expect(response.body).toEqual({ token: expect.any(String), expiresIn: 86_400, jti: expect.any(String) });

    const { token } = response.body;
    const jwk = await sageJwk();
    expect(decodeProtectedHeader(token)).toEqual({ alg: "RS256", typ: "mesh+jwt", kid: jwk.kid });
    const { payload } = await jwtVerify(token, await importJWK(jwk, "RS256"), {
      algorithms: ["RS256"],
      typ: "mesh+jwt",
      issuer: testConfig().issuer,
      audience: "heady-mesh",
    });
    const defaults = testConfig().mesh.roleTopics.ui;
    expect(payload).toEqual({
      iss: testConfig().issuer,
      aud: "heady-mesh",
      node_id: nodeId,
      role: "ui",
      allowed_topics: defaults.allow,
      listen_topics: defaults.listen,
      iat: expect.any(Number),
      exp: payload.iat! + 86_400,
      jti: response.body.jti,
    });
  });

  it("publishes the SAGE key in the JWKS with its RFC 7638 thumbprint as kid, beside the existing keys", async () => {
    const jwk = await sageJwk();
    expect(jwk).toMatchObject({ kty: "RSA", alg: "RS256", use: "sig", e: "AQAB" });
    expect(jwk.kid).toBe(await calculateJwkThumbprint({ kty: "RSA", n: jwk.n!, e: jwk.e! }, "sha256"));
    expect(jwk).not.toHaveProperty("d");
    const { keys } = (await request("GET", "/.well-known/jwks.json")).body as { keys: JWK[] };
    expect(keys.some((key) => key.kty === "AKP" && key.alg === "ML-DSA-65")).toBe(true);
  });

  it("registers the token in D1 and audits token_issued with the operator as actor", async () => {
    const nodeId = uniqueNodeId();
    const response = await issue({ node_id: nodeId, role: "scribe" });
    const row = await env.DB.prepare("SELECT node_id, role, issued_by, revoked_at FROM mesh_node_tokens WHERE jti = ?")
      .bind(response.body.jti)
      .first();
    expect(row).toEqual({ node_id: nodeId, role: "scribe", issued_by: operator.userId, revoked_at: null });
    const [event] = await nodeAuditEvents("mesh.node_token_issued", nodeId);
    expect(event!.actor).toBe(operator.userId);
    expect(event!.details).toMatchObject({ event: "token_issued", role: "scribe", jti: response.body.jti, via: "access_token" });
  });

  it("hands back the token_issued event's trust receipt in X-Heady-Receipt, verifiable with the published key", async () => {
    const nodeId = uniqueNodeId();
    const response = await issue({ node_id: nodeId, role: "ui" });
    expect(response.status).toBe(200);
    const receipt = response.headers.get("X-Heady-Receipt");
    expect(receipt).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    const { keys } = (await request("GET", "/.well-known/jwks.json")).body as { keys: (JWK & { kid: string })[] };
    const receiptJwk = keys.find((key) => key.kty === "OKP" && key.kid === decodeProtectedHeader(receipt!).kid)!;
    const { payload } = await jwtVerify(receipt!, await importJWK(receiptJwk, "EdDSA"), {
      algorithms: ["EdDSA"],
      typ: "receipt+jwt",
      issuer: testConfig().issuer,
    });
    const [event] = await nodeAuditEvents("mesh.node_token_issued", nodeId);
    expect(payload).toMatchObject({ evt: "mesh.node_token_issued", sub: `node:${nodeId}`, jti: event!.id });
  });

  it("takes topics as the seed's plain array: the node's extra allowed topics", async () => {
    const response = await issue({ node_id: uniqueNodeId(), role: "reasoner", topics: ["lab.experiment.*", "lab.notes"] });
    expect(response.status).toBe(200);
    const claims = decodePayload(response.body.token);
    expect(claims.allowed_topics).toEqual(["reasoner.>", "lab.experiment.*", "lab.notes"]);
    expect(claims.listen_topics).toEqual(["mirror.>", "governor.decision"]);
    expect(claims).not.toHaveProperty("denied_topics");
  });

  it("adds custom allow and listen patterns to the defaults, and custom deny narrows them", async () => {
    const response = await issue({
      node_id: uniqueNodeId(),
      role: "reasoner",
      topics: { allow: ["lab.experiment.*"], listen: ["scribe.>"], deny: ["reasoner.secret.>"] },
    });
    expect(response.status).toBe(200);
    const claims = decodePayload(response.body.token);
    expect(claims.allowed_topics).toEqual(["reasoner.>", "lab.experiment.*"]);
    expect(claims.listen_topics).toEqual(["mirror.>", "governor.decision", "scribe.>"]);
    expect(claims.denied_topics).toEqual(["reasoner.secret.>"]);
  });

  it("lets an admin issue, and honours a shorter ttlSeconds", async () => {
    const response = await issue({ node_id: uniqueNodeId(), role: "governor", ttlSeconds: 30 }, { token: admin.accessToken });
    expect(response.status).toBe(200);
    expect(response.body.expiresIn).toBe(30);
    const claims = decodePayload(response.body.token);
    expect((claims.exp as number) - (claims.iat as number)).toBe(30);
  });
});

describe("POST /api/sage/token: who may ask", () => {
  it("answers 401 without a credential", async () => {
    const response = await issue({ node_id: uniqueNodeId(), role: "ui" }, {});
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe("unauthorized");
  });

  it("answers 403 to a user", async () => {
    const response = await issue({ node_id: uniqueNodeId(), role: "ui" }, { token: user.accessToken });
    expect(response.status).toBe(403);
    expect(response.body.error.message).toContain("sage:bootstrap");
  });

  it("answers 403 to a user's API key without the bootstrap scope", async () => {
    expect((await issue({ node_id: uniqueNodeId(), role: "ui" }, { apiKey: plainKey })).status).toBe(403);
  });

  it("issues to a bootstrap API key whatever its role, and audits it as such", async () => {
    const nodeId = uniqueNodeId();
    const response = await issue({ node_id: nodeId, role: "hermes", topics: { deny: ["hermes.private.>"] } }, { apiKey: bootstrapKey });
    expect(response.status).toBe(200);
    expect(decodePayload(response.body.token).denied_topics).toEqual(["governor.>", "hermes.private.>"]);
    const [event] = await nodeAuditEvents("mesh.node_token_issued", nodeId);
    expect(event!.details).toMatchObject({ via: "bootstrap_key", keyId: expect.any(String) });
  });

  it("refuses a bootstrap key that tries to add topics (it may only narrow)", async () => {
    for (const topics of [{ allow: ["governor.>"] }, { listen: [">"] }, ["governor.>"]]) {
      const response = await issue({ node_id: uniqueNodeId(), role: "ui", topics }, { apiKey: bootstrapKey });
      expect(response.status).toBe(403);
      expect(response.body.error.message).toContain("only narrow");
    }
  });

  it("holds a role-scoped bootstrap key (sage:bootstrap:ui) to that role", async () => {
    expect((await issue({ node_id: uniqueNodeId(), role: "ui" }, { apiKey: uiOnlyBootstrapKey })).status).toBe(200);
    const response = await issue({ node_id: uniqueNodeId(), role: "governor" }, { apiKey: uiOnlyBootstrapKey });
    expect(response.status).toBe(403);
    expect(response.body.error.message).toBe("This API key may not request the governor role.");
  });
});

describe("POST /api/sage/token: bad input is a 400, never a 500", () => {
  it.each([
    ["no body fields", {}],
    ["a node_id with spaces", { node_id: "my node", role: "ui" }],
    ["a node_id starting with a dot", { node_id: ".hidden", role: "ui" }],
    ["a node_id that is too long", { node_id: "n".repeat(65), role: "ui" }],
    ["an unknown role", { node_id: "n1", role: "emperor" }],
    ["an account role", { node_id: "n1", role: "admin" }],
    ["a partial-segment wildcard", { node_id: "n1", role: "ui", topics: { allow: ["mirror.int*"] } }],
    ["an empty segment", { node_id: "n1", role: "ui", topics: { deny: ["mirror..x"] } }],
    ["`>` before the end", { node_id: "n1", role: "ui", topics: { deny: ["mirror.>.x"] } }],
    ["a control character", { node_id: "n1", role: "ui", topics: { deny: ["mirror.\u0007"] } }],
    ["a misspelt topics member", { node_id: "n1", role: "ui", topics: { denied: ["mirror.>"] } }],
    ["a ttl below 5 s", { node_id: "n1", role: "ui", ttlSeconds: 4 }],
    ["a fractional ttl", { node_id: "n1", role: "ui", ttlSeconds: 10.5 }],
    ["too many patterns", { node_id: "n1", role: "ui", topics: { deny: Array.from({ length: 17 }, (_, i) => `t${i}`) } }],
    ["too many patterns in the array form", { node_id: "n1", role: "ui", topics: Array.from({ length: 17 }, (_, i) => `t${i}`) }],
    ["a bad pattern in the array form", { node_id: "n1", role: "ui", topics: ["mirror.int*"] }],
    ["a non-string in the array form", { node_id: "n1", role: "ui", topics: [1] }],
    ["topics as a string", { node_id: "n1", role: "ui", topics: "mirror.>" }],
  ])("refuses %s", async (_, body) => {
    const response = await issue(body);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe("invalid_request");
  });

  it("refuses a ttlSeconds above SAGE_TOKEN_TTL_SECONDS", async () => {
    const response = await issue({ node_id: uniqueNodeId(), role: "ui", ttlSeconds: 86_401 });
    expect(response.status).toBe(400);
    expect(response.body.error.message).toBe("ttlSeconds: at most 86400 (SAGE_TOKEN_TTL_SECONDS).");
  });

  it("refuses patterns too large to travel in a socket attachment", async () => {
    const long = (i: number) => `area${i}.${"x".repeat(60)}.${"y".repeat(60)}`;
    const response = await issue({
      node_id: uniqueNodeId(),
      role: "ui",
      topics: { deny: Array.from({ length: 16 }, (_, i) => long(i)) },
    });
    expect(response.status).toBe(400);
    expect(response.body.error.message).toContain("1280 bytes");
  });
});

describe("POST /api/sage/token: a fleet bootstrapping under one key", () => {
  it(`serves a burst of ${NODE_TOKEN_ISSUE_PER_CALLER.burst} tokens at once to one bootstrap key, then refuses with Retry-After; other keys are unaffected`, async () => {
    const { burst, perMinute } = NODE_TOKEN_ISSUE_PER_CALLER;
    // Their own keys: the other tests' keys keep their buckets.
    const [fleetKey, otherKey] = [await apiKeyFor(operator, ["sage:bootstrap"]), await apiKeyFor(operator, ["sage:bootstrap"])];
    const startedAt = Date.now();
    let issued = 0;
    let refused: Awaited<ReturnType<typeof issue>> | undefined;
    // In waves of 20, as restarting nodes would ask, until the key is refused.
    while (!refused && issued <= burst * 2) {
      const wave = await Promise.all(
        Array.from({ length: 20 }, () => issue({ node_id: uniqueNodeId("fleet"), role: "ui" }, { apiKey: fleetKey })),
      );
      for (const response of wave) {
        if (response.status === 200) issued += 1;
        else refused ??= response;
      }
    }
    const refilled = Math.ceil(((Date.now() - startedAt) / 60_000) * perMinute);
    // Far more than the 60 a minute it used to be, all of the burst, and no more than the refill since.
    expect(issued).toBeGreaterThanOrEqual(burst);
    expect(issued).toBeLessThanOrEqual(burst + refilled);
    expect(refused?.status).toBe(429);
    expect(refused?.body.error.code).toBe("rate_limited");
    expect(Number(refused?.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);

    expect((await issue({ node_id: uniqueNodeId(), role: "ui" }, { apiKey: otherKey })).status).toBe(200);
    expect((await issue({ node_id: uniqueNodeId(), role: "ui" })).status).toBe(200);
  }, 120_000);
});
