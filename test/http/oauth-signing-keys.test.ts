import { env } from "cloudflare:workers";
import { calculateJwkThumbprint, importJWK, type JWK, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { signJwt } from "../../src/crypto/jwt";
import { type Bindings, loadConfig } from "../../src/env";
import { activeSigningKey, oauthKeys } from "../../src/oauth/signing-keys";
import { testConfig } from "../support/config";
import { generateOidcSigningKeys } from "../support/oidc-signing-keys";
import { appWith, request } from "../support/worker";

const jwks = async () => (await request("GET", "/.well-known/jwks.json")).body.keys as (JWK & { kid: string })[];

describe("OIDC_SIGNING_KEYS", () => {
  it("publishes every key (next, active, retiring) in the JWKS, kid = RFC 7638 thumbprint, no private member", async () => {
    const published = await jwks();
    const configured = await oauthKeys(testConfig());
    expect(configured.map((key) => key.status).sort()).toEqual(["active", "active", "active", "next", "retiring"]);
    for (const key of configured) {
      const jwk = published.find((candidate) => candidate.kid === key.verificationKey.kid);
      expect(jwk, key.signingKey.alg).toBeDefined();
      expect(jwk!.kid).toBe(await calculateJwkThumbprint(jwk!, "sha256"));
      expect(jwk).toMatchObject({ alg: key.signingKey.alg, use: "sig" });
      expect(jwk).not.toHaveProperty("d");
    }
    // The SAGE, receipt and PQC keys are still there beside them.
    expect(published.some((key) => key.kty === "AKP")).toBe(true);
  });

  it("signs with the active key of each algorithm, and what it signs verifies against the JWKS with jose", async () => {
    const published = await jwks();
    for (const alg of ["RS256", "ES256", "EdDSA"] as const) {
      const key = await activeSigningKey(testConfig(), alg);
      const active = (await oauthKeys(testConfig())).find((entry) => entry.status === "active" && entry.signingKey.alg === alg)!;
      expect(key.kid).toBe(active.signingKey.kid);
      const now = Math.floor(Date.now() / 1000);
      const token = await signJwt({ iss: "https://id.heady.test", aud: "x", iat: now, exp: now + 60 }, key, "at+jwt");
      const jwk = published.find((candidate) => candidate.kid === key.kid)!;
      const { payload, protectedHeader } = await jwtVerify(token, await importJWK(jwk, alg), { algorithms: [alg], audience: "x" });
      expect(protectedHeader).toEqual({ alg, typ: "at+jwt", kid: key.kid });
      expect(payload.iss).toBe("https://id.heady.test");
    }
  });

  it("refuses two active keys of one algorithm, and a set without an active RS256 key", async () => {
    const [rs, es] = JSON.parse(await generateOidcSigningKeys(["RS256", "ES256"]));
    const withKeys = (keys: unknown) => () => loadConfig({ ...env, OIDC_SIGNING_KEYS: JSON.stringify(keys) });
    expect(withKeys([rs, { ...rs }])).toThrow(/2 active RS256 keys/);
    expect(withKeys([es])).toThrow(/active RS256/);
    expect(withKeys([{ ...rs, status: "next" }, es])).toThrow(/active RS256/);
    expect(withKeys([{ ...rs, alg: "HS256" }])).toThrow();
    expect(withKeys([rs, es])).not.toThrow();
  });

  it("a key that is not what its entry says is a configuration error at first use", async () => {
    const [rs, es] = JSON.parse(await generateOidcSigningKeys(["RS256", "ES256"]));
    const config = loadConfig({ ...env, OIDC_SIGNING_KEYS: JSON.stringify([rs, { ...es, alg: "EdDSA" }]) });
    await expect(oauthKeys(config)).rejects.toThrow(/OIDC_SIGNING_KEYS\[1\] is not a EdDSA private key/);
  });

  it("generateOidcSigningKeys gives one active key per algorithm that imports", async () => {
    const generated = await generateOidcSigningKeys();
    const config = loadConfig({ ...env, OIDC_SIGNING_KEYS: generated });
    const keys = await oauthKeys(config);
    expect(keys.map((key) => [key.signingKey.alg, key.status])).toEqual([
      ["RS256", "active"],
      ["ES256", "active"],
      ["EdDSA", "active"],
    ]);
  });
});

describe("without OIDC_SIGNING_KEYS", () => {
  it("the provider is off: its routes answer 404, the JWKS has no provider key, and the rest of the API is untouched", async () => {
    const { OIDC_SIGNING_KEYS: _, ...withoutKeys } = env as unknown as Record<string, unknown>;
    const handler = appWith(withoutKeys as unknown as Bindings);
    for (const path of ["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server", "/oauth/authorize?client_id=x"]) {
      expect((await request("GET", path, { handler })).status, path).toBe(404);
    }
    expect((await request("POST", "/oauth/token", { handler })).status).toBe(404);
    const keys = (await request<{ keys: { kid: string }[] }>("GET", "/.well-known/jwks.json", { handler })).body.keys;
    const providerKids = (await oauthKeys(testConfig())).map((key) => key.verificationKey.kid);
    expect(keys.some((key) => providerKids.includes(key.kid))).toBe(false);
    expect((await request("GET", "/health", { handler })).status).toBe(200);
  });
});
