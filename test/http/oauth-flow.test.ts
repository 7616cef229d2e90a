import { env } from "cloudflare:workers";
import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from "jose";
import * as oauth from "oauth4webapi";
import { describe, expect, it } from "vitest";
import { attemptLogin, HASHING_HEAVY, registerUser } from "../support/accounts";
import { auditEvents } from "../support/audit";
import { BASE_URL, testConfig } from "../support/config";
import {
  authorizationUrl,
  authorize,
  callbackFor,
  decide,
  discover,
  REDIRECT_URI,
  RESOURCE,
  registerClient,
  viaWorker,
} from "../support/oauth";
import { enableTotp } from "../support/totp";
import { request } from "../support/worker";

/** jose fetches the JWKS through the Worker inside workerd. */
async function verifyWithJwks(token: string, options: Parameters<typeof jwtVerify>[2]) {
  const { keys } = (await request("GET", "/.well-known/jwks.json")).body as JSONWebKeySet;
  return jwtVerify(token, createLocalJWKSet({ keys }), options);
}

describe("discovery", () => {
  it("serves one document at both well-known URLs, advertising only what is implemented", async () => {
    const openid = await request("GET", "/.well-known/openid-configuration");
    const rfc8414 = await request("GET", "/.well-known/oauth-authorization-server");
    expect(openid.status).toBe(200);
    expect(rfc8414.body).toEqual(openid.body);
    expect(openid.body).toMatchObject({
      issuer: testConfig().issuer,
      authorization_endpoint: `${BASE_URL}/oauth/authorize`,
      token_endpoint: `${BASE_URL}/oauth/token`,
      jwks_uri: `${BASE_URL}/.well-known/jwks.json`,
      response_types_supported: ["code"],
      code_challenge_methods_supported: ["S256"],
      authorization_response_iss_parameter_supported: true,
    });
    expect(openid.body.grant_types_supported).not.toContain("implicit");
    const as = await discover();
    expect(as.issuer).toBe(testConfig().issuer);
  });
});

describe("the authorization code flow with oauth4webapi", () => {
  it("signs a person in: code with PKCE, ID token, RFC 9068 access token, userinfo, refresh rotation, revocation", async () => {
    const as = await discover();
    const { client, clientAuth } = await registerClient({ firstParty: true });
    const person = await registerUser();
    const start = await authorizationUrl(as, client, { resource: RESOURCE });
    const callback = await callbackFor(start, person);
    expect(callback.origin + callback.pathname).toBe(REDIRECT_URI);
    expect(callback.searchParams.get("iss")).toBe(testConfig().issuer);

    const params = oauth.validateAuthResponse(as, client, callback, start.state);
    const response = await oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, REDIRECT_URI, start.verifier, viaWorker);
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: start.nonce, requireIdToken: true });
    const idClaims = oauth.getValidatedIdTokenClaims(tokens)!;
    expect(idClaims).toMatchObject({
      sub: person.userId,
      aud: client.client_id,
      nonce: start.nonce,
      email: person.email,
      email_verified: false,
    });
    expect(typeof idClaims.auth_time).toBe("number");
    expect(tokens.refresh_token).toBeTruthy();
    expect(tokens.scope).toBe("email offline_access openid profile");

    // The ID token and the access token verify against the JWKS alone (jose).
    const id = await verifyWithJwks(tokens.id_token!, {
      issuer: testConfig().issuer,
      audience: client.client_id as string,
      algorithms: ["RS256"],
    });
    expect(id.protectedHeader).toMatchObject({ alg: "RS256", typ: "JWT" });
    const access = await verifyWithJwks(tokens.access_token, {
      issuer: testConfig().issuer,
      audience: RESOURCE,
      typ: "at+jwt",
      algorithms: ["RS256"],
    });
    expect(access.payload).toMatchObject({ sub: person.userId, client_id: client.client_id, scope: "email offline_access openid profile" });
    expect(access.payload.exp! - access.payload.iat!).toBe(600);
    expect(typeof access.payload.jti).toBe("string");

    const userinfo = await oauth.userInfoRequest(as, client, tokens.access_token, viaWorker);
    expect(await oauth.processUserInfoResponse(as, client, person.userId, userinfo)).toMatchObject({
      sub: person.userId,
      email: person.email,
    });

    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token!, viaWorker),
    );
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);

    const revoked = await oauth.revocationRequest(as, client, clientAuth, refreshed.refresh_token!, viaWorker);
    await oauth.processRevocationResponse(revoked);
    const afterRevoke = await oauth.refreshTokenGrantRequest(as, client, clientAuth, refreshed.refresh_token!, viaWorker);
    await expect(oauth.processRefreshTokenResponse(as, client, afterRevoke)).rejects.toMatchObject({ error: "invalid_grant" });

    const [issued] = await auditEvents({ subject: person.userId, type: "oauth.token_issued" });
    expect(issued).toBeDefined();
  });

  it("signs ID and access tokens with the client's ES256 or EdDSA key", async () => {
    const as = await discover();
    for (const alg of ["ES256", "EdDSA"] as const) {
      const { client, clientAuth } = await registerClient({
        firstParty: true,
        idTokenSignedResponseAlg: alg,
        accessTokenSignedResponseAlg: alg,
      });
      const person = await registerUser();
      const start = await authorizationUrl(as, client);
      const params = oauth.validateAuthResponse(as, client, await callbackFor(start, person), start.state);
      const response = await oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, REDIRECT_URI, start.verifier, viaWorker);
      const tokens = await oauth.processAuthorizationCodeResponse(as, client, response, {
        expectedNonce: start.nonce,
        requireIdToken: true,
      });
      const id = await verifyWithJwks(tokens.id_token!, {
        issuer: testConfig().issuer,
        audience: client.client_id as string,
        algorithms: [alg],
      });
      expect(id.protectedHeader.alg).toBe(alg);
      const access = await verifyWithJwks(tokens.access_token, { issuer: testConfig().issuer, typ: "at+jwt", algorithms: [alg] });
      expect(access.payload.sub).toBe(person.userId);
    }
  });

  it("a public client (none) with PKCE; a client_secret_post client", async () => {
    const as = await discover();
    for (const tokenEndpointAuthMethod of ["none", "client_secret_post"]) {
      const { client, clientAuth } = await registerClient({ firstParty: true, tokenEndpointAuthMethod });
      const person = await registerUser();
      const start = await authorizationUrl(as, client);
      const params = oauth.validateAuthResponse(as, client, await callbackFor(start, person), start.state);
      const response = await oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, REDIRECT_URI, start.verifier, viaWorker);
      const tokens = await oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: start.nonce });
      expect(tokens.access_token, tokenEndpointAuthMethod).toBeTruthy();
    }
  });

  it("client_credentials: a service token for its registered audience, API scopes only", async () => {
    const as = await discover();
    const { client, clientAuth } = await registerClient({ grantTypes: ["client_credentials"], redirectUris: [], scopes: ["orders:read"] });
    const response = await oauth.clientCredentialsGrantRequest(
      as,
      client,
      clientAuth,
      new URLSearchParams({ scope: "orders:read" }),
      viaWorker,
    );
    const tokens = await oauth.processClientCredentialsResponse(as, client, response);
    const access = await verifyWithJwks(tokens.access_token, { issuer: testConfig().issuer, audience: RESOURCE, typ: "at+jwt" });
    expect(access.payload).toMatchObject({ sub: client.client_id, client_id: client.client_id, scope: "orders:read" });
    const openid = await oauth.clientCredentialsGrantRequest(as, client, clientAuth, new URLSearchParams({ scope: "openid" }), viaWorker);
    await expect(oauth.processClientCredentialsResponse(as, client, openid)).rejects.toMatchObject({ error: "invalid_scope" });
  });
});

describe("consent", () => {
  it("asks once per scope set for a third-party app, remembers it, and a denial goes back as access_denied", async () => {
    const as = await discover();
    const { client } = await registerClient();
    const person = await registerUser();
    const first = await authorizationUrl(as, client, { scope: "openid email" });
    const page = await authorize(first.url, person);
    expect(page.status).toBe(200);
    expect(page.text).toContain("Test app");
    expect(page.text).toContain("See your email address");
    expect(page.headers.get("Content-Security-Policy")).toContain("frame-ancestors 'none'");
    // The form post back must carry our real Origin (see CONSENT_PAGE_HEADERS), and no Referer leaves for the app.
    expect(page.headers.get("Referrer-Policy")).toBe("same-origin");
    // Another origin cannot post the decision, nor a post without Origin, nor a ticket twice.
    const ticketPost = (origin: string | undefined) =>
      request("POST", "/oauth/consent", {
        cookie: person.cookie,
        rawBody: new URLSearchParams({ ticket: /name="ticket" value="([^"]+)"/.exec(page.text)![1]!, decision: "approve" }).toString(),
        headers: { "Content-Type": "application/x-www-form-urlencoded", ...(origin ? { Origin: origin } : {}) },
      });
    expect((await ticketPost(undefined)).status).toBe(403);
    expect((await ticketPost("https://evil.test")).status).toBe(403);
    const approved = await decide(page.text, person, "approve");
    expect(approved.status).toBe(303);
    expect(new URL(approved.headers.get("Location")!).searchParams.get("code")).toBeTruthy();
    expect((await decide(page.text, person, "approve")).status).toBe(400);

    // Remembered for the same scope set; asked again for a new one, and for prompt=consent.
    const again = await authorize((await authorizationUrl(as, client, { scope: "email openid" })).url, person);
    expect(again.status).toBe(302);
    expect((await authorize((await authorizationUrl(as, client, { scope: "openid profile" })).url, person)).status).toBe(200);
    expect((await authorize((await authorizationUrl(as, client, { scope: "openid email", prompt: "consent" })).url, person)).status).toBe(
      200,
    );

    const denyStart = await authorizationUrl(as, client, { scope: "openid" });
    const denied = await decide((await authorize(denyStart.url, person)).text, person, "deny");
    const back = new URL(denied.headers.get("Location")!);
    expect(back.searchParams.get("error")).toBe("access_denied");
    expect(back.searchParams.get("state")).toBe(denyStart.state);
    expect(back.searchParams.get("iss")).toBe(testConfig().issuer);
  });
});

describe("who is signed in at authorize", () => {
  it("sends a signed-out person to sign in and back; prompt=none answers login_required", async () => {
    const as = await discover();
    const { client } = await registerClient({ firstParty: true });
    const start = await authorizationUrl(as, client);
    const answer = await authorize(start.url, undefined);
    expect(answer.status).toBe(302);
    const signIn = new URL(answer.headers.get("Location")!, BASE_URL);
    expect(signIn.pathname).toBe("/sign-in");
    expect(signIn.searchParams.get("return")).toBe(`${start.url.pathname}${start.url.search}`);
    // The sign-in page sends the person back to exactly that request.
    const page = await request("GET", `${signIn.pathname}${signIn.search}`);
    expect(page.text).toContain(`data-return="${`${start.url.pathname}${start.url.search}`.replaceAll("&", "&amp;")}"`);

    const none = await authorize((await authorizationUrl(as, client, { prompt: "none" })).url, undefined);
    expect(new URL(none.headers.get("Location")!).searchParams.get("error")).toBe("login_required");
  });

  it("a person with a second factor who passed only the password step has no session, so gets no code", HASHING_HEAVY, async () => {
    const as = await discover();
    const { client } = await registerClient({ firstParty: true });
    const person = await registerUser();
    await enableTotp(person.accessToken);
    const passwordOnly = await attemptLogin(person.email, person.password);
    expect(passwordOnly.body.mfaRequired).toBe(true);
    expect(passwordOnly.headers.get("Set-Cookie") ?? "").not.toContain("__Host-heady_session");
    const answer = await authorize((await authorizationUrl(as, client, { prompt: "none" })).url, undefined);
    expect(new URL(answer.headers.get("Location")!).searchParams.get("error")).toBe("login_required");
  });

  it("answers a cross-site arrival without the cookie with a same-site hop to the same URL", async () => {
    const as = await discover();
    const { client } = await registerClient({ firstParty: true });
    const start = await authorizationUrl(as, client);
    const hop = await authorize(start.url, undefined, { "Sec-Fetch-Site": "cross-site" });
    expect(hop.status).toBe(200);
    expect(hop.text).toContain(`href="${start.url.toString().replaceAll("&", "&amp;")}"`);
    // The hop's own request is same-origin: with the cookie it gets a code, without it sign-in.
    const person = await registerUser();
    const withCookie = await authorize(start.url, person, { "Sec-Fetch-Site": "same-origin" });
    expect(new URL(withCookie.headers.get("Location")!).searchParams.get("code")).toBeTruthy();
    const without = await authorize(start.url, undefined, { "Sec-Fetch-Site": "same-origin" });
    expect(without.headers.get("Location")).toMatch(/^\/sign-in\?return=/);
  });

  it("prompt=login and max_age send a person whose sign-in is not fresh to sign in again", async () => {
    const as = await discover();
    const { client } = await registerClient({ firstParty: true });
    const person = await registerUser();
    await env.DB.prepare("UPDATE sessions SET authenticated_at = ? WHERE user_id = ?")
      .bind(Date.now() - 10 * 60_000, person.userId)
      .run();
    for (const params of [{ prompt: "login" }, { max_age: "120" }] as Record<string, string>[]) {
      const answer = await authorize((await authorizationUrl(as, client, params)).url, person);
      expect(answer.headers.get("Location"), JSON.stringify(params)).toMatch(/^\/sign-in\?return=/);
    }
    const none = await authorize((await authorizationUrl(as, client, { prompt: "none", max_age: "120" })).url, person);
    expect(new URL(none.headers.get("Location")!).searchParams.get("error")).toBe("login_required");
    const relaxed = await authorize((await authorizationUrl(as, client, { max_age: "3600" })).url, person);
    expect(new URL(relaxed.headers.get("Location")!).searchParams.get("code")).toBeTruthy();
  });
});
