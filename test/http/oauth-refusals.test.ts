import { env } from "cloudflare:workers";
import * as oauth from "oauth4webapi";
import { describe, expect, it } from "vitest";
import { registerUser } from "../support/accounts";
import { auditEvents } from "../support/audit";
import { testConfig } from "../support/config";
import { authorizationUrl, authorize, callbackFor, discover, REDIRECT_URI, registerClient, viaWorker } from "../support/oauth";
import { request } from "../support/worker";

const form = (fields: Record<string, string>, headers: Record<string, string> = {}) => ({
  rawBody: new URLSearchParams(fields).toString(),
  headers: { "Content-Type": "application/x-www-form-urlencoded", ...headers },
});
const basic = (id: string, secret: string) => ({
  Authorization: `Basic ${btoa(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`)}`,
});

/** A signed-in person's code for a fresh first-party client, ready to exchange. */
async function codeFlow(fields: Record<string, unknown> = {}) {
  const as = await discover();
  const registered = await registerClient({ firstParty: true, ...fields });
  const person = await registerUser();
  const start = await authorizationUrl(as, registered.client);
  const callback = await callbackFor(start, person);
  const params = oauth.validateAuthResponse(as, registered.client, callback, start.state);
  return { as, ...registered, person, start, callback, params };
}

/** Expects an RFC 6749 §5.2 error body with this code and status. */
function expectOAuthError(response: { status: number; body: any; headers: Headers }, status: number, error: string) {
  expect(response.status).toBe(status);
  expect(response.body).toEqual({ error, error_description: expect.any(String) });
  expect(response.headers.get("Cache-Control")).toBe("no-store");
}

describe("the negative paths, through oauth4webapi", () => {
  it("wrong state: the client refuses the callback", async () => {
    const { as, client, callback } = await codeFlow();
    expect(() => oauth.validateAuthResponse(as, client, callback, "another-state")).toThrow();
  });

  it("wrong nonce: the ID token carries the request's nonce, so a different expected nonce is refused", async () => {
    const { as, client, clientAuth, params, start } = await codeFlow();
    const response = await oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, REDIRECT_URI, start.verifier, viaWorker);
    await expect(oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: "not-the-nonce" })).rejects.toThrow(/nonce/);
  });

  it("a redirect URI that is not registered exactly gets our own page, and nothing goes to it", async () => {
    const as = await discover();
    const { client } = await registerClient({ firstParty: true });
    for (const redirect of [`${REDIRECT_URI}/more`, `${REDIRECT_URI}?x=1`, "https://evil.test/callback", REDIRECT_URI.toUpperCase()]) {
      const start = await authorizationUrl(as, client, { redirect_uri: redirect });
      const answer = await authorize(start.url, await registerUser());
      expect(answer.status, redirect).toBe(400);
      expect(answer.headers.get("Location")).toBeNull();
      expect(answer.text).toContain("redirect_uri");
    }
    const unknown = await authorize((await authorizationUrl(as, { client_id: "no-such-client" })).url, undefined);
    expect(unknown.status).toBe(400);
  });

  it("a redirect URI at the token endpoint that differs from the authorization request's is refused", async () => {
    const { as, client, clientAuth, params, start } = await codeFlow({ redirectUris: [REDIRECT_URI, "https://app.heady.test/other"] });
    const response = await oauth.authorizationCodeGrantRequest(
      as,
      client,
      clientAuth,
      params,
      "https://app.heady.test/other",
      start.verifier,
      viaWorker,
    );
    await expect(oauth.processAuthorizationCodeResponse(as, client, response)).rejects.toMatchObject({ error: "invalid_grant" });
  });

  it("code reuse: the second exchange is refused and the refresh token of the first is revoked", async () => {
    const { as, client, clientAuth, params, start, person } = await codeFlow();
    const exchange = () => oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, REDIRECT_URI, start.verifier, viaWorker);
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, await exchange(), { expectedNonce: start.nonce });
    await expect(
      oauth.processAuthorizationCodeResponse(as, client, await exchange(), { expectedNonce: start.nonce }),
    ).rejects.toMatchObject({
      error: "invalid_grant",
    });
    const refresh = await oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token!, viaWorker);
    await expect(oauth.processRefreshTokenResponse(as, client, refresh)).rejects.toMatchObject({ error: "invalid_grant" });
    expect(await auditEvents({ subject: person.userId, type: "oauth.code_replayed" })).toHaveLength(1);
  });

  it("a PKCE verifier that does not match is refused, and burns the code", async () => {
    const { as, client, clientAuth, params } = await codeFlow();
    const response = await oauth.authorizationCodeGrantRequest(
      as,
      client,
      clientAuth,
      params,
      REDIRECT_URI,
      oauth.generateRandomCodeVerifier(),
      viaWorker,
    );
    await expect(oauth.processAuthorizationCodeResponse(as, client, response)).rejects.toMatchObject({ error: "invalid_grant" });
  });

  it("a resource the client may not use is refused on the redirect with invalid_target", async () => {
    const as = await discover();
    const { client } = await registerClient({ firstParty: true });
    const start = await authorizationUrl(as, client, { resource: "https://payments.heady.test" });
    const answer = await authorize(start.url, await registerUser());
    const back = new URL(answer.headers.get("Location")!);
    expect(back.searchParams.get("error")).toBe("invalid_target");
    expect(back.searchParams.get("state")).toBe(start.state);
    expect(() => oauth.validateAuthResponse(as, client, back, start.state)).toThrow();
  });

  it("an expired code is refused", async () => {
    const { as, client, clientAuth, params, start } = await codeFlow();
    await env.DB.prepare("UPDATE oauth_codes SET expires_at = ? WHERE client_id = ?")
      .bind(Date.now() - 1, client.client_id)
      .run();
    const response = await oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, REDIRECT_URI, start.verifier, viaWorker);
    await expect(oauth.processAuthorizationCodeResponse(as, client, response)).rejects.toMatchObject({ error: "invalid_grant" });
  });

  it("a refresh token reused after rotation ends the whole family", async () => {
    const { as, client, clientAuth, params, start, person } = await codeFlow();
    const tokens = await oauth.processAuthorizationCodeResponse(
      as,
      client,
      await oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, REDIRECT_URI, start.verifier, viaWorker),
      { expectedNonce: start.nonce },
    );
    const refresh = (token: string) => oauth.refreshTokenGrantRequest(as, client, clientAuth, token, viaWorker);
    const rotated = await oauth.processRefreshTokenResponse(as, client, await refresh(tokens.refresh_token!));
    await expect(oauth.processRefreshTokenResponse(as, client, await refresh(tokens.refresh_token!))).rejects.toMatchObject({
      error: "invalid_grant",
    });
    // The successor died with its family.
    await expect(oauth.processRefreshTokenResponse(as, client, await refresh(rotated.refresh_token!))).rejects.toMatchObject({
      error: "invalid_grant",
    });
    expect(await auditEvents({ subject: person.userId, type: "oauth.refresh_reuse_detected" })).toHaveLength(1);
  });

  it("a client authenticating with another client's secret is refused (401 invalid_client with a Basic challenge)", async () => {
    const { client, params, start } = await codeFlow();
    const other = await registerClient();
    const code = params.get("code")!;
    const answer = await request(
      "POST",
      "/oauth/token",
      form(
        { grant_type: "authorization_code", code, redirect_uri: REDIRECT_URI, code_verifier: start.verifier },
        basic(client.client_id as string, other.secret!),
      ),
    );
    expectOAuthError(answer, 401, "invalid_client");
    expect(answer.headers.get("WWW-Authenticate")).toMatch(/^Basic /);
    // The other client's own credentials do not redeem this client's code either.
    const stolen = await request(
      "POST",
      "/oauth/token",
      form(
        { grant_type: "authorization_code", code, redirect_uri: REDIRECT_URI, code_verifier: start.verifier },
        basic(other.client.client_id as string, other.secret!),
      ),
    );
    expectOAuthError(stolen, 400, "invalid_grant");
  });
});

describe("POST /oauth/token: every refusal is RFC 6749 §5.2, never a 500", () => {
  it("answers malformed requests with the right code and status", async () => {
    const { client, secret } = await registerClient({ firstParty: true });
    const auth = basic(client.client_id as string, secret!);
    const cases: [Record<string, string>, Record<string, string>, number, string][] = [
      [{ grant_type: "authorization_code" }, auth, 400, "invalid_request"],
      [{ grant_type: "password", username: "a", password: "b" }, auth, 400, "unsupported_grant_type"],
      [{}, auth, 400, "unsupported_grant_type"],
      [{ grant_type: "client_credentials" }, auth, 400, "unauthorized_client"],
      [{ grant_type: "refresh_token", refresh_token: "nope" }, auth, 400, "invalid_grant"],
      [
        { grant_type: "authorization_code", code: "x".repeat(43), redirect_uri: REDIRECT_URI, code_verifier: "v".repeat(43) },
        auth,
        400,
        "invalid_grant",
      ],
      [{ grant_type: "refresh_token", refresh_token: "x" }, basic(client.client_id as string, "wrong"), 401, "invalid_client"],
      [{ grant_type: "refresh_token", refresh_token: "x" }, { Authorization: "Basic !!!" }, 401, "invalid_client"],
      [
        { grant_type: "refresh_token", refresh_token: "x", client_id: client.client_id as string, client_secret: secret! },
        auth,
        400,
        "invalid_request",
      ],
      [{ grant_type: "refresh_token", refresh_token: "x", client_id: client.client_id as string }, {}, 401, "invalid_client"],
      [
        { grant_type: "refresh_token", refresh_token: "x", client_id: client.client_id as string, client_secret: secret! },
        {},
        401,
        "invalid_client",
      ],
      [
        {
          grant_type: "client_credentials",
          client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
          client_assertion: "a.b.c",
          client_id: "x",
        },
        {},
        401,
        "invalid_client",
      ],
    ];
    for (const [fields, headers, status, error] of cases) {
      const answer = await request("POST", "/oauth/token", form(fields, headers));
      expect({ fields, status: answer.status, body: answer.body }).toMatchObject({ status, body: { error } });
      expectOAuthError(answer, status, error);
    }
    const json = await request("POST", "/oauth/token", { body: { grant_type: "client_credentials" }, headers: auth });
    expectOAuthError(json, 400, "invalid_request");
  });

  it("refuses a public client's exchange without PKCE proof, and a confidential client without its secret", async () => {
    const { params } = await codeFlow({ tokenEndpointAuthMethod: "none" });
    const answer = await request(
      "POST",
      "/oauth/token",
      form({ grant_type: "authorization_code", code: params.get("code")!, redirect_uri: REDIRECT_URI, client_id: "x" }),
    );
    expectOAuthError(answer, 401, "invalid_client");
  });
});

describe("authorize: errors on the redirect once client and redirect URI are known good", () => {
  it("unsupported response types, missing or plain PKCE, scopes beyond the client's, bad prompt and max_age", async () => {
    const as = await discover();
    const { client } = await registerClient({ firstParty: true, scopes: ["openid", "email"] });
    const person = await registerUser();
    const cases: [Record<string, string>, string][] = [
      [{ response_type: "token" }, "unsupported_response_type"],
      [{ response_type: "code id_token" }, "unsupported_response_type"],
      [{ code_challenge_method: "plain" }, "invalid_request"],
      [{ code_challenge: "short" }, "invalid_request"],
      [{ scope: "openid profile" }, "invalid_scope"],
      [{ scope: "" }, "invalid_scope"],
      [{ prompt: "none login" }, "invalid_request"],
      [{ prompt: "select_account" }, "invalid_request"],
      [{ max_age: "-1" }, "invalid_request"],
    ];
    for (const [params, error] of cases) {
      const start = await authorizationUrl(as, client, { scope: "openid email", ...params });
      const answer = await authorize(start.url, person);
      expect(answer.status, JSON.stringify(params)).toBe(302);
      const back = new URL(answer.headers.get("Location")!);
      expect(`${back.origin}${back.pathname}`).toBe(REDIRECT_URI);
      expect({ params, error: back.searchParams.get("error") }).toEqual({ params, error });
      expect(back.searchParams.get("iss")).toBe(testConfig().issuer);
    }
    const noPkce = await authorizationUrl(as, client, { scope: "openid" });
    noPkce.url.searchParams.delete("code_challenge");
    expect(new URL((await authorize(noPkce.url, person)).headers.get("Location")!).searchParams.get("error")).toBe("invalid_request");
    const twice = await authorizationUrl(as, client, { scope: "openid" });
    twice.url.searchParams.append("client_id", "other");
    expect((await authorize(twice.url, person)).status).toBe(400);
  });
});

describe("userinfo, revoke, introspect, logout", () => {
  async function tokensFor(fields: Record<string, unknown> = {}) {
    const flow = await codeFlow(fields);
    const response = await oauth.authorizationCodeGrantRequest(
      flow.as,
      flow.client,
      flow.clientAuth,
      flow.params,
      REDIRECT_URI,
      flow.start.verifier,
      viaWorker,
    );
    return {
      ...flow,
      tokens: await oauth.processAuthorizationCodeResponse(flow.as, flow.client, response, { expectedNonce: flow.start.nonce }),
    };
  }

  it("userinfo refuses a missing, forged or foreign token with 401 and a Bearer challenge", async () => {
    const { tokens } = await tokensFor();
    expect((await request("GET", "/oauth/userinfo", { token: tokens.access_token })).status).toBe(200);
    const refusals = [undefined, `${tokens.access_token}x`, tokens.id_token!];
    for (const token of refusals) {
      const answer = await request("GET", "/oauth/userinfo", token === undefined ? {} : { token });
      expect(answer.status).toBe(401);
      expect(answer.body.error).toBe("invalid_token");
      expect(answer.headers.get("WWW-Authenticate")).toMatch(/^Bearer/);
    }
    // A first-party HS256 access token is not an OAuth access token.
    const person = await registerUser();
    expect((await request("GET", "/oauth/userinfo", { token: person.accessToken })).status).toBe(401);
  });

  it("introspection: confidential clients learn about their own tokens; others and public clients do not", async () => {
    const { tokens, client, secret } = await tokensFor();
    const introspect = (token: string, id: string, key: string) => request("POST", "/oauth/introspect", form({ token }, basic(id, key)));
    const own = await introspect(tokens.refresh_token!, client.client_id as string, secret!);
    expect(own.body).toMatchObject({ active: true, token_type: "refresh_token", client_id: client.client_id });
    const access = await introspect(tokens.access_token, client.client_id as string, secret!);
    expect(access.body).toMatchObject({ active: true, client_id: client.client_id, scope: expect.any(String) });
    // A resource server of another audience learns nothing; one of this token's audiences does.
    const other = await registerClient({ audiences: ["https://other.heady.test"] });
    const resourceServer = await registerClient({ grantTypes: ["client_credentials"], redirectUris: [] });
    expect((await introspect(tokens.access_token, resourceServer.client.client_id as string, resourceServer.secret!)).body).toMatchObject({
      active: true,
      sub: expect.any(String),
    });
    expect((await introspect(tokens.refresh_token!, resourceServer.client.client_id as string, resourceServer.secret!)).body).toEqual({
      active: false,
    });
    expect((await introspect(tokens.refresh_token!, other.client.client_id as string, other.secret!)).body).toEqual({ active: false });
    expect((await introspect(tokens.access_token, other.client.client_id as string, other.secret!)).body).toEqual({ active: false });
    expect((await introspect("garbage", client.client_id as string, secret!)).body).toEqual({ active: false });
    const publicClient = await registerClient({ tokenEndpointAuthMethod: "none" });
    expectOAuthError(
      await request("POST", "/oauth/introspect", form({ token: tokens.access_token, client_id: publicClient.client.client_id as string })),
      401,
      "invalid_client",
    );
    expectOAuthError(
      await request("POST", "/oauth/introspect", form({}, basic(client.client_id as string, secret!))),
      400,
      "invalid_request",
    );
  });

  it("revocation answers 200 for any token, and only the owning client revokes", async () => {
    const { tokens, as, client, clientAuth } = await tokensFor();
    const other = await registerClient();
    expect(
      (
        await request(
          "POST",
          "/oauth/revoke",
          form({ token: tokens.refresh_token! }, basic(other.client.client_id as string, other.secret!)),
        )
      ).status,
    ).toBe(200);
    const stillGood = await oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token!, viaWorker);
    expect((await oauth.processRefreshTokenResponse(as, client, stillGood)).access_token).toBeTruthy();
    expect(
      (await request("POST", "/oauth/revoke", form({ token: "unknown" }, basic(other.client.client_id as string, other.secret!)))).status,
    ).toBe(200);
    expectOAuthError(await request("POST", "/oauth/revoke", form({ token: "x" })), 401, "invalid_client");
  });

  it("RP-initiated logout ends the session the hint names and goes back to a registered URI with state", async () => {
    const { tokens, person } = await tokensFor();
    const query = new URLSearchParams({
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: "https://app.heady.test/bye",
      state: "s1",
    });
    const wrongTarget = new URLSearchParams({ id_token_hint: tokens.id_token!, post_logout_redirect_uri: "https://evil.test/" });
    expect((await request("GET", `/oauth/logout?${wrongTarget}`, { cookie: person.cookie })).status).toBe(400);
    expect((await request("GET", "/oauth/logout", { cookie: person.cookie })).status).toBe(400);
    const answer = await request("GET", `/oauth/logout?${query}`, { cookie: person.cookie });
    expect(answer.status).toBe(302);
    expect(answer.headers.get("Location")).toBe("https://app.heady.test/bye?state=s1");
    expect((await request("GET", "/api/auth/me", { cookie: person.cookie })).status).toBe(401);
  });
});

describe("metrics", () => {
  /** Every sample of a scrape, by series. */
  async function scrape(): Promise<Map<string, number>> {
    const response = await request("GET", "/metrics", { token: env.METRICS_TOKEN! });
    const samples = new Map<string, number>();
    for (const line of response.text.split("\n")) {
      if (!line || line.startsWith("#")) continue;
      const at = line.lastIndexOf(" ");
      samples.set(line.slice(0, at), Number(line.slice(at + 1)));
    }
    return samples;
  }

  it("counts token issuance by grant, refusals by endpoint, and replays", async () => {
    const before = await scrape();
    const { as, client, clientAuth, params, start } = await codeFlow();
    const exchange = () => oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, REDIRECT_URI, start.verifier, viaWorker);
    expect((await exchange()).status).toBe(200);
    expect((await exchange()).status).toBe(400);
    const after = await scrape();
    const delta = (series: string) => (after.get(series) ?? 0) - (before.get(series) ?? 0);
    expect(delta('heady_oauth_tokens_issued_total{grant="authorization_code"}')).toBe(1);
    expect(delta('heady_oauth_refusals_total{endpoint="token"}')).toBe(1);
    expect(delta('heady_oauth_replays_total{kind="code"}')).toBe(1);
  });
});
