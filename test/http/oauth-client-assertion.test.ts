import { exportJWK, generateKeyPair, SignJWT } from "jose";
import * as oauth from "oauth4webapi";
import { describe, expect, it } from "vitest";
import { testConfig } from "../support/config";
import { discover, RESOURCE, registerClient, viaWorker } from "../support/oauth";
import { request } from "../support/worker";

const ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/** A client registered for private_key_jwt with a fresh key of `alg`, and that key to sign with. */
async function assertingClient(alg: "RS256" | "ES256" | "Ed25519") {
  const { publicKey, privateKey } = await generateKeyPair(alg === "Ed25519" ? "EdDSA" : alg, { extractable: true });
  const kid = `key-${alg}-${crypto.randomUUID()}`;
  const jwk = { ...(await exportJWK(publicKey)), kid, alg };
  const registered = await registerClient({
    grantTypes: ["client_credentials"],
    redirectUris: [],
    scopes: ["orders:read"],
    tokenEndpointAuthMethod: "private_key_jwt",
    jwks: { keys: [jwk] },
  });
  return { ...registered, privateKey, kid, alg };
}

const tokenRequest = (assertion: string, extra: Record<string, string> = {}) =>
  request("POST", "/oauth/token", {
    rawBody: new URLSearchParams({
      grant_type: "client_credentials",
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: assertion,
      ...extra,
    }).toString(),
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
  });

describe("private_key_jwt (RFC 7523)", () => {
  it("authenticates a client by an assertion signed with its registered RS256, ES256 or Ed25519 key (oauth4webapi)", async () => {
    const as = await discover();
    expect(as.token_endpoint_auth_methods_supported).toContain("private_key_jwt");
    // oauth4webapi names Ed25519 signatures by RFC 9864's `Ed25519`, so that key is registered under that name.
    for (const alg of ["RS256", "ES256", "Ed25519"] as const) {
      const { client, privateKey, kid } = await assertingClient(alg);
      const response = await oauth.clientCredentialsGrantRequest(
        as,
        client,
        oauth.PrivateKeyJwt({ key: privateKey as CryptoKey, kid }),
        new URLSearchParams({ scope: "orders:read", resource: RESOURCE }),
        viaWorker,
      );
      const tokens = await oauth.processClientCredentialsResponse(as, client, response);
      expect(tokens.access_token, alg).toBeTruthy();
    }
  });

  it("refuses a replayed jti, another key, a wrong audience or subject, and a long-lived assertion", async () => {
    const { client, privateKey, kid, alg } = await assertingClient("ES256");
    const id = client.client_id as string;
    const now = Math.floor(Date.now() / 1000);
    // Every claim in the payload, so an override replaces the default (SignJWT's setters would win over it).
    const sign = (claims: Record<string, unknown>, key: CryptoKey = privateKey as CryptoKey, header: Record<string, unknown> = {}) =>
      new SignJWT({ jti: crypto.randomUUID(), iss: id, sub: id, aud: testConfig().issuer, iat: now, exp: now + 60, ...claims })
        .setProtectedHeader({ alg, kid, ...header })
        .sign(key);

    const once = await sign({});
    expect((await tokenRequest(once)).status).toBe(200);
    const replayed = await tokenRequest(once);
    expect(replayed.status).toBe(401);
    expect(replayed.body.error).toBe("invalid_client");

    const stranger = (await generateKeyPair("ES256")).privateKey;
    const refusals = [
      await sign({}, stranger as CryptoKey),
      await sign({ aud: "https://elsewhere.test" }),
      await sign({ sub: "someone-else" }),
      await sign({ exp: now + 3600 }),
      await sign({}, privateKey as CryptoKey, { kid: "unknown-kid" }),
      await sign({}, privateKey as CryptoKey, { typ: "at+jwt" }),
      "not.a.jwt",
    ];
    for (const assertion of refusals) {
      const answer = await tokenRequest(assertion);
      expect(answer.status, assertion.slice(0, 40)).toBe(401);
      expect(answer.body).toEqual({ error: "invalid_client", error_description: expect.any(String) });
    }
    // The token endpoint's own URL is an audience too; a wrong assertion type or a second method is refused.
    expect((await tokenRequest(await sign({ aud: `${testConfig().providers.publicUrl}/oauth/token` }))).status).toBe(200);
    expect((await tokenRequest(await sign({}), { client_assertion_type: "urn:other" })).status).toBe(401);
    expect((await tokenRequest(await sign({}), { client_secret: "x", client_id: id })).status).toBe(400);
  });

  it("a secret client cannot switch to assertions, nor an asserting client to secrets", async () => {
    const { client } = await assertingClient("Ed25519");
    const secretClient = await registerClient({ grantTypes: ["client_credentials"], redirectUris: [], scopes: ["orders:read"] });
    const answer = await request("POST", "/oauth/token", {
      rawBody: new URLSearchParams({
        grant_type: "client_credentials",
        client_id: client.client_id as string,
        client_secret: secretClient.secret!,
      }).toString(),
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    });
    expect(answer.status).toBe(401);
  });
});
