import { createPrivateKey, createPublicKey, sign, verify } from "node:crypto";
import { describe, expect, inject, it } from "vitest";
import { request } from "../support/e2e/client";
import { uniqueEmail } from "../support/fresh";

/** Node 24 verifies ML-DSA through OpenSSL: an implementation independent of the Worker's. */
const b64url = (data: Buffer | string) => Buffer.from(data).toString("base64url");

async function signedInUser() {
  const { body } = await request("POST", "/api/auth/register", {
    body: { email: uniqueEmail("pqc"), password: "violet harbour sextant owl" },
  });
  return body;
}

describe("PQC tokens against wrangler dev, checked by Node's own ML-DSA", () => {
  it("a token the Worker signs verifies with Node's crypto from the JWKS alone", async () => {
    const user = await signedInUser();
    const issued = await request("POST", "/api/auth/request-pqc-token", {
      token: user.accessToken,
      body: { service: "headyme", operation: "sync" },
    });
    expect(issued.status).toBe(200);
    const token: string = issued.body.pqcToken;
    const [header, payload, signature] = token.split(".") as [string, string, string];
    expect(JSON.parse(Buffer.from(header, "base64url").toString())).toMatchObject({ alg: "ML-DSA-65", typ: "pqc+jwt" });
    expect(Buffer.from(signature, "base64url")).toHaveLength(3309);

    const jwks = await request("GET", "/.well-known/jwks.json");
    const kid = JSON.parse(Buffer.from(header, "base64url").toString()).kid;
    const jwk = jwks.body.keys.find((key: { kid: string }) => key.kid === kid);
    expect(jwk).toMatchObject({ kty: "AKP", alg: "ML-DSA-65" });
    const publicKey = createPublicKey({ key: { kty: "AKP", alg: "ML-DSA-65", pub: jwk.pub }, format: "jwk" });
    expect(verify(null, Buffer.from(`${header}.${payload}`), publicKey, Buffer.from(signature, "base64url"))).toBe(true);

    const tampered = Buffer.from(`${header}.${payload}x`);
    expect(verify(null, tampered, publicKey, Buffer.from(signature, "base64url"))).toBe(false);
    console.info(`PQC token size: ${token.length} bytes`);
  });

  it("a token Node signs with the dev seed is accepted by the Worker, and a forged one is not", async () => {
    const user = await signedInUser();
    const seed = inject("pqcSeed");
    const jwks = await request("GET", "/.well-known/jwks.json");
    const { pub, kid } = jwks.body.keys[0];
    const privateKey = createPrivateKey({ key: { kty: "AKP", alg: "ML-DSA-65", pub, priv: seed }, format: "jwk" });
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: "https://id.heady.local",
      aud: "heady-pqc",
      sub: user.user.id,
      role: "user",
      service: "headyme",
      operation: "sync",
      permissions: ["sync:read"],
      iat: now,
      exp: now + 120,
      jti: crypto.randomUUID(),
      heady_ctx: { service_id: "svc-headyme-sync", endpoint: "https://me.heady.systems/api/sync", mtls_cert: null },
    };
    const input = `${b64url(JSON.stringify({ alg: "ML-DSA-65", typ: "pqc+jwt", kid }))}.${b64url(JSON.stringify(claims))}`;
    const token = `${input}.${b64url(sign(null, Buffer.from(input), privateKey))}`;
    const verified = await request("GET", "/api/auth/verify", { headers: { "X-Heady-PQC-Token": token } });
    expect(verified.status).toBe(200);
    expect(verified.body).toMatchObject({ kind: "pqc_token", service: "headyme", operation: "sync", sub: user.user.id });

    const otherKey = createPrivateKey({ key: { kty: "AKP", alg: "ML-DSA-65", pub, priv: b64url(Buffer.alloc(32, 7)) }, format: "jwk" });
    const forged = `${input}.${b64url(sign(null, Buffer.from(input), otherKey))}`;
    expect((await request("GET", "/api/auth/verify", { headers: { "X-Heady-PQC-Token": forged } })).status).toBe(401);
  });

  it("a reference resolves to the token's claims", async () => {
    const user = await signedInUser();
    const issued = await request("POST", "/api/auth/request-pqc-token", {
      token: user.accessToken,
      body: { service: "headyme", operation: "sync", reference: true },
    });
    expect(issued.status).toBe(200);
    expect(issued.body.reference).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const verified = await request("GET", "/api/auth/verify", { token: issued.body.reference });
    expect(verified.status).toBe(200);
    expect(verified.body).toMatchObject({ kind: "pqc_token", reference: true, service: "headyme" });
  });
});
