import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { attemptLogin, findUser, registerUser, updateUser } from "../support/accounts";
import { auditEvents } from "../support/audit";
import { parseSetCookie, sessionCookie } from "../support/cookies";
import { sha256Hex } from "../support/encoding";
import { uniqueEmail } from "../support/fresh";
import type { ApiResponse } from "../support/http";
import { mailedToken, VERIFY_SUBJECT } from "../support/mail";
import {
  approveAtProvider,
  BROWSER_BINDING_COOKIE,
  type Browser,
  browse,
  newBrowser,
  returnToCallback,
  signInWith,
  startSignIn,
  ticketOf,
} from "../support/providers";
import type { Tamper } from "../support/servers/fake-idp-client";
import { request } from "../support/worker";

const APP_PAGE = "https://app.heady.test/signed-in";

/** The owner follows the verification link registration mailed. */
async function verifyOwnEmail(email: string): Promise<void> {
  const response = await request("POST", "/api/auth/verify-email", { body: { token: await mailedToken(email, VERIFY_SUBJECT) } });
  expect(response.status).toBe(200);
}

/** A fresh provider user: a unique subject and email. */
function providerUser(overrides: Record<string, string> = {}) {
  return { sub: String(Math.floor(Math.random() * 1e12)), email: uniqueEmail("idp"), email_verified: "true", ...overrides };
}

async function collectTokens(browser: Browser, callback: ApiResponse): Promise<ApiResponse> {
  return browse(browser, "POST", "/api/provider/tokens", { body: { ticket: ticketOf(callback) } });
}

/** The refusal recorded for this browser's address, with its reason. */
async function failureReasons(browser: Browser): Promise<unknown[]> {
  const events = await auditEvents({ type: "provider.login_failed", ip: browser.ip });
  return events.map((event) => event.details.reason);
}

function expectRefusal(response: ApiResponse, status: number, code: string) {
  expect(response.status, response.text).toBe(status);
  expect(response.body.error).toMatchObject({ code, requestId: expect.any(String) });
  expect(response.headers.get("location")).toBeNull();
}

describe("provider sign-in: OIDC (discovery, loopback IdP)", () => {
  it("lists the enabled providers, with their start URLs", async () => {
    const response = await request("GET", "/api/provider/list");
    expect(response.status).toBe(200);
    expect(response.body.providers.map((provider: { id: string }) => provider.id).sort()).toEqual(["apple", "dev", "github", "oidc"]);
    expect(response.body.providers).toContainEqual({
      id: "oidc",
      name: "OpenID Connect",
      protocol: "oidc",
      pkce: true,
      startUrl: "/api/provider/start?provider=oidc",
    });
  });

  it("starts with code flow, exact redirect_uri, state, nonce and PKCE S256, and binds the browser with a __Host- Lax cookie", async () => {
    const browser = newBrowser();
    const response = await browse(browser, "POST", "/api/provider/start", { body: { provider: "oidc" } });
    expect(response.status).toBe(200);
    const url = new URL(response.body.authorizationUrl);
    expect(url.origin + url.pathname).toBe(`${env.OAUTH_OIDC_ISSUER}/authorize`);
    expect(url.searchParams.get("response_type")).toBe("code");
    expect(url.searchParams.get("redirect_uri")).toBe("https://id.heady.test/api/provider/callback/oidc");
    expect(url.searchParams.get("scope")).toBe("openid email profile");
    expect(url.searchParams.get("code_challenge_method")).toBe("S256");
    expect(url.searchParams.get("code_challenge")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url.searchParams.get("state")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url.searchParams.get("nonce")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const [binding] = response.headers.getSetCookie().map(parseSetCookie);
    expect(binding?.name).toBe(BROWSER_BINDING_COOKIE);
    expect(Object.fromEntries(binding!.attributes)).toMatchObject({
      secure: "",
      httponly: "",
      samesite: "Lax",
      path: "/",
      "max-age": "600",
    });
  });

  it("the GET form answers 302 to the provider", async () => {
    const response = await request("GET", "/api/provider/start?provider=oidc");
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toMatch(new RegExp(`^${env.OAUTH_OIDC_ISSUER}/authorize\\?`));
  });

  it("a new identity creates a user account and signs it in as a login does: cookie, receipt, then tokens for the ticket", async () => {
    const browser = newBrowser();
    const user = providerUser({ email_verified: "false" });
    const callback = await signInWith(browser, "oidc", user);
    expect(callback.status, callback.text).toBe(302);
    expect(callback.headers.get("location")).toMatch(new RegExp(`^${APP_PAGE}#ticket=[A-Za-z0-9_-]{43}$`));
    expect(sessionCookie(callback.headers).attributes.get("samesite")).toBe("Strict");
    expect(callback.headers.get("X-Heady-Receipt")).toMatch(/^ey/);

    const account = await findUser(user.email);
    expect(account).toMatchObject({ role: "user" });
    const tokens = await collectTokens(browser, callback);
    expect(tokens.status, tokens.text).toBe(200);
    expect(tokens.body.user).toMatchObject({ id: account!.id, email: user.email, role: "user" });
    expect(tokens.body.refreshToken).toMatch(/^[0-9a-f]{68}$/);
    expect((await request("GET", "/api/auth/me", { token: tokens.body.accessToken })).body.email).toBe(user.email);
    expect((await request("POST", "/api/auth/refresh", { body: { refreshToken: tokens.body.refreshToken } })).status).toBe(200);
    // The session cookie set by the callback is a session of its own right.
    expect((await browse(browser, "GET", "/api/auth/me")).status).toBe(200);

    const [login] = await auditEvents({ type: "login.succeeded", subject: account!.id });
    expect(login?.details).toEqual({ method: "provider", provider: "oidc" });
    const stored = await env.DB.prepare("SELECT receipt FROM audit_events WHERE id = ?").bind(login!.id).first<{ receipt: string }>();
    expect(stored?.receipt).toBe(callback.headers.get("X-Heady-Receipt"));
    // A ticket works once.
    expectRefusal(await collectTokens(browser, callback), 401, "invalid_token");
    // The account has no password: no password logs into it.
    expect((await attemptLogin(user.email, "")).status).toBe(400);
    expect((await attemptLogin(user.email, "any password at all")).status).toBe(401);
  });

  it("the same identity signs in to the same account again", async () => {
    const user = providerUser();
    const browserA = newBrowser();
    const a = await collectTokens(browserA, await signInWith(browserA, "oidc", user));
    const browserB = newBrowser();
    const b = await collectTokens(browserB, await signInWith(browserB, "oidc", { ...user, email: uniqueEmail("changed") }));
    expect(b.body.user.id).toBe(a.body.user.id);
  });

  it("userinfo (asked because the ID token lacks the email) that does not answer is an outage (502), not a bad profile", async () => {
    const browser = newBrowser();
    expectRefusal(await signInWith(browser, "oidc", { ...providerUser(), tamper: "userinfo_down" }), 502, "bad_gateway");
    expect(await failureReasons(browser)).toEqual(["provider_unreachable"]);
  });

  it("links to an existing account by email only when the provider verified it", async () => {
    const owner = await registerUser();
    await verifyOwnEmail(owner.email);
    const unverified = newBrowser();
    expectRefusal(
      await signInWith(unverified, "oidc", providerUser({ email: owner.email, email_verified: "false" })),
      409,
      "account_link_required",
    );
    expect(await failureReasons(unverified)).toEqual(["email_unverified"]);

    const verified = newBrowser();
    const tokens = await collectTokens(
      verified,
      await signInWith(verified, "oidc", providerUser({ email: owner.email, email_verified: "true" })),
    );
    expect(tokens.body.user.id).toBe(owner.userId);
  });

  it("links by email only when the account verified its address too (account pre-hijacking)", async () => {
    // Someone registers the victim's address with a password of their own, and never verifies it.
    const squatter = await registerUser();
    const browser = newBrowser();
    expectRefusal(
      await signInWith(browser, "oidc", providerUser({ email: squatter.email, email_verified: "true" })),
      409,
      "account_link_required",
    );
    expect(await failureReasons(browser)).toEqual(["account_email_unverified"]);
    const identities = await request("GET", "/api/provider/identities", { token: squatter.accessToken });
    expect(identities.body.identities).toEqual([]);
  });

  it("an account a provider creates with a verified email has its address verified", async () => {
    const user = providerUser({ email_verified: "true" });
    const browser = newBrowser();
    const tokens = await collectTokens(browser, await signInWith(browser, "oidc", user));
    expect(tokens.body.user.emailVerified).toBe(true);
    const unverified = providerUser({ email_verified: "false" });
    const other = newBrowser();
    expect((await collectTokens(other, await signInWith(other, "oidc", unverified))).body.user.emailVerified).toBe(false);
  });

  it("a disabled account cannot sign in through a provider", async () => {
    const user = providerUser();
    expect((await signInWith(newBrowser(), "oidc", user)).status).toBe(302);
    const account = await findUser(user.email);
    await updateUser(account!.id, { disabled_at: Date.now() });
    const browser = newBrowser();
    expectRefusal(await signInWith(browser, "oidc", user), 403, "forbidden");
    expect(await failureReasons(browser)).toEqual(["disabled"]);
  });
});

describe("provider sign-in: GitHub-style OAuth 2.0 (code exchange, then the user API)", () => {
  it("reads the user and the primary verified email from the API, and signs in", async () => {
    const browser = newBrowser();
    const authorization = await startSignIn(browser, "github");
    expect(authorization.origin + authorization.pathname).toBe(`${env.OAUTH_GITHUB_HOST}/login/oauth/authorize`);
    expect(authorization.searchParams.get("scope")).toBe("read:user user:email");
    expect(authorization.searchParams.has("nonce")).toBe(false);
    const user = providerUser();
    const callback = await returnToCallback(browser, await approveAtProvider(authorization, user));
    expect(callback.status, callback.text).toBe(302);
    const tokens = await collectTokens(browser, callback);
    expect(tokens.body.user.email).toBe(user.email);
    const identities = await request("GET", "/api/provider/identities", { token: tokens.body.accessToken });
    expect(identities.body).toMatchObject({
      hasPassword: false,
      identities: [{ provider: "github", subject: user.sub, email: user.email, emailVerified: true }],
    });
  });

  it("a user API that refuses the access token is a provider error (400), not an outage", async () => {
    const browser = newBrowser();
    expectRefusal(await signInWith(browser, "github", { ...providerUser(), tamper: "api_unauthorized" }), 400, "provider_error");
    expect(await failureReasons(browser)).toEqual(["profile_invalid"]);
  });

  it("an unverified primary email creates no link to an existing account", async () => {
    const owner = await registerUser();
    await verifyOwnEmail(owner.email);
    const browser = newBrowser();
    expectRefusal(
      await signInWith(browser, "github", providerUser({ email: owner.email, email_verified: "false" })),
      409,
      "account_link_required",
    );
  });
});

describe("provider sign-in: every attack fails with a 4xx and an audit event", () => {
  it("replaying a callback (state used once)", async () => {
    const browser = newBrowser();
    const callback = await approveAtProvider(await startSignIn(browser, "oidc"), providerUser());
    expect((await returnToCallback(browser, callback)).status).toBe(302);
    expectRefusal(await returnToCallback(browser, callback), 400, "invalid_request");
    expect(await failureReasons(browser)).toEqual(["state_unknown"]);
  });

  it("a state started in another browser (login CSRF)", async () => {
    const attacker = newBrowser();
    const victim = newBrowser();
    const callback = await approveAtProvider(await startSignIn(attacker, "oidc"), providerUser());
    expectRefusal(await returnToCallback(victim, callback), 400, "invalid_request");
    expect(await failureReasons(victim)).toEqual(["browser_mismatch"]);
    // Consumed by the refusal: the attacker cannot use it either.
    expectRefusal(await returnToCallback(attacker, callback), 400, "invalid_request");
  });

  it("a callback without a binding cookie, or without state", async () => {
    const browser = newBrowser();
    const callback = await approveAtProvider(await startSignIn(browser, "oidc"), providerUser());
    browser.cookies.delete(BROWSER_BINDING_COOKIE);
    expectRefusal(await returnToCallback(browser, callback), 400, "invalid_request");
    callback.searchParams.delete("state");
    expectRefusal(await returnToCallback(browser, callback), 400, "invalid_request");
    expect(await failureReasons(browser)).toEqual(["browser_mismatch", "state_missing"]);
  });

  it("a state of one provider at another provider's callback (mix-up)", async () => {
    const browser = newBrowser();
    const callback = await approveAtProvider(await startSignIn(browser, "oidc"), providerUser());
    expectRefusal(await browse(browser, "GET", `/api/provider/callback/github${callback.search}`), 400, "invalid_request");
    expect(await failureReasons(browser)).toEqual(["provider_mismatch"]);
  });

  for (const [label, verifier] of [
    ["a missing PKCE verifier", null],
    ["a wrong PKCE verifier", "wrong-verifier-wrong-verifier-wrong-verifier-0123"],
  ] as const) {
    it(label, async () => {
      const browser = newBrowser();
      const authorization = await startSignIn(browser, "oidc");
      // As if the flow's verifier were lost or swapped (an injected code from another flow).
      const stateHash = await sha256Hex(authorization.searchParams.get("state")!);
      const updated = await env.DB.prepare("UPDATE oauth_flows SET code_verifier = ? WHERE state_hash = ?").bind(verifier, stateHash).run();
      expect(updated.meta.changes).toBe(1);
      expectRefusal(await returnToCallback(browser, await approveAtProvider(authorization, providerUser())), 400, "provider_error");
      expect(await failureReasons(browser)).toEqual(["token_exchange_failed"]);
    });
  }

  const idTokenAttacks: [string, Tamper, string][] = [
    ["a wrong nonce", "wrong_nonce", "id_token_invalid"],
    ["an ID token from another issuer", "other_issuer", "id_token_invalid"],
    ["an ID token for another audience", "other_audience", "id_token_invalid"],
    ["an expired ID token", "expired", "id_token_invalid"],
    ["an ID token issued before the flow began", "stale_iat", "id_token_invalid"],
    ["alg: none", "alg_none", "id_token_invalid"],
    ["an ID token signed with a key outside the provider's JWKS", "bad_signature", "id_token_invalid"],
    ["an authorization response naming another issuer (RFC 9207)", "wrong_iss_param", "issuer_mismatch"],
  ];
  for (const [label, tamper, reason] of idTokenAttacks) {
    it(label, async () => {
      const browser = newBrowser();
      const user = providerUser();
      expectRefusal(await signInWith(browser, "oidc", { ...user, tamper }), 400, "provider_error");
      expect(await failureReasons(browser)).toEqual([reason]);
      expect(await findUser(user.email)).toBeNull();
      expect(browser.cookies.has("__Host-heady_session")).toBe(false);
    });
  }

  for (const redirectTo of [
    "https://evil.example/signed-in",
    "https://app.heady.test.evil.example/signed-in",
    "https://app.heady.test/signed-in/../../evil",
    "https://app.heady.test/signed-in?next=https://evil.example",
    "https://app.heady.test/signed-in#x",
    "https://app.heady.test/signed-inx",
    "https://user@app.heady.test/signed-in",
    "//evil.example/signed-in",
    "javascript:alert(1)",
  ]) {
    it(`an open redirectTo: ${redirectTo}`, async () => {
      const browser = newBrowser();
      const response = await browse(browser, "POST", "/api/provider/start", { body: { provider: "oidc", redirectTo } });
      expectRefusal(response, 400, "invalid_request");
      expect(await failureReasons(browser)).toEqual(["redirect_not_allowed"]);
      const get = await browse(browser, "GET", `/api/provider/start?provider=oidc&redirectTo=${encodeURIComponent(redirectTo)}`);
      expectRefusal(get, 400, "invalid_request");
    });
  }

  it("an allowlisted redirectTo is followed exactly", async () => {
    const browser = newBrowser();
    const callback = await signInWith(browser, "oidc", providerUser(), { redirectTo: "https://id.heady.test/sign-in" });
    expect(callback.headers.get("location")).toMatch(/^https:\/\/id\.heady\.test\/sign-in#ticket=/);
  });

  it("a provider that is not enabled", async () => {
    const browser = newBrowser();
    expectRefusal(await browse(browser, "POST", "/api/provider/start", { body: { provider: "google" } }), 404, "not_found");
    expectRefusal(await browse(browser, "GET", "/api/provider/callback/google?state=x&code=y"), 404, "not_found");
  });
});

describe("provider sign-in: the form_post callback (Apple's response mode)", () => {
  it("accepts the authorization response as a cross-site form POST, whose Origin is the provider's", async () => {
    const browser = newBrowser();
    const callback = await approveAtProvider(await startSignIn(browser, "oidc"), providerUser());
    const response = await browse(browser, "POST", callback.pathname, {
      headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: "https://appleid.apple.com" },
      rawBody: callback.searchParams.toString(),
    });
    expect(response.status, response.text).toBe(302);
    expect(response.headers.get("location")).toMatch(/#ticket=/);
  });

  it("binds a form_post provider's flow with a SameSite=None cookie, which a cross-site POST carries (Lax would not)", async () => {
    const browser = newBrowser();
    const response = await browse(browser, "POST", "/api/provider/start", { body: { provider: "apple" } });
    expect(response.status, response.text).toBe(200);
    expect(new URL(response.body.authorizationUrl).searchParams.get("response_mode")).toBe("form_post");
    const [binding] = response.headers.getSetCookie().map(parseSetCookie);
    expect(Object.fromEntries(binding!.attributes)).toMatchObject({ secure: "", httponly: "", samesite: "None", path: "/" });
  });

  it("refuses a form POST without a state, and one from another browser, like the GET form", async () => {
    const browser = newBrowser();
    const headers = { "Content-Type": "application/x-www-form-urlencoded", Origin: "https://appleid.apple.com" };
    expectRefusal(await browse(browser, "POST", "/api/provider/callback/oidc", { headers, rawBody: "code=x" }), 400, "invalid_request");
    const callback = await approveAtProvider(await startSignIn(newBrowser(), "oidc"), providerUser());
    expectRefusal(
      await browse(browser, "POST", callback.pathname, { headers, rawBody: callback.searchParams.toString() }),
      400,
      "invalid_request",
    );
    expect(await failureReasons(browser)).toEqual(["state_missing", "browser_mismatch"]);
  });
});

describe("provider identities: list, link, unlink", () => {
  it("a signed-in user links a provider, lists it, and unlinks it", async () => {
    const owner = await registerUser();
    const browser = newBrowser();
    const user = providerUser({ email: uniqueEmail("other"), email_verified: "false" });
    const linked = await signInWith(browser, "github", user, { path: "/api/provider/link", token: owner.accessToken });
    expect(linked.status, linked.text).toBe(302);
    expect(linked.headers.get("location")).toBe(APP_PAGE);
    const list = await request("GET", "/api/provider/identities", { token: owner.accessToken });
    expect(list.body).toMatchObject({ hasPassword: true, identities: [{ provider: "github", subject: user.sub }] });
    expect(await auditEvents({ type: "provider.linked", subject: owner.userId })).toHaveLength(1);

    // Now that identity signs in to the owner's account.
    const again = newBrowser();
    expect((await collectTokens(again, await signInWith(again, "github", user))).body.user.id).toBe(owner.userId);

    const id = list.body.identities[0].id;
    expect((await request("DELETE", `/api/provider/identities/${id}`, { token: owner.accessToken })).status).toBe(204);
    expect((await request("GET", "/api/provider/identities", { token: owner.accessToken })).body.identities).toEqual([]);
    expectRefusal(await request("DELETE", `/api/provider/identities/${id}`, { token: owner.accessToken }), 404, "not_found");
  });

  it("an identity linked to another account cannot be linked", async () => {
    const user = providerUser();
    await signInWith(newBrowser(), "oidc", user);
    const owner = await registerUser();
    const browser = newBrowser();
    expectRefusal(await signInWith(browser, "oidc", user, { path: "/api/provider/link", token: owner.accessToken }), 409, "conflict");
    expect(await failureReasons(browser)).toEqual(["identity_taken"]);
  });

  it("the last way to sign in cannot be removed", async () => {
    const browser = newBrowser();
    const tokens = await collectTokens(browser, await signInWith(browser, "oidc", providerUser()));
    const [identity] = (await request("GET", "/api/provider/identities", { token: tokens.body.accessToken })).body.identities;
    expectRefusal(await request("DELETE", `/api/provider/identities/${identity.id}`, { token: tokens.body.accessToken }), 409, "conflict");
    // With a second identity, the first can go.
    await signInWith(browser, "github", providerUser(), { path: "/api/provider/link", token: tokens.body.accessToken });
    expect((await request("DELETE", `/api/provider/identities/${identity.id}`, { token: tokens.body.accessToken })).status).toBe(204);
  });

  it("linking needs a person's session: an API key cannot add a way into the account", async () => {
    const owner = await registerUser();
    const key = await request("POST", "/api/auth/api-keys", { token: owner.accessToken, body: { description: "ci" } });
    expect(key.status, key.text).toBe(201);
    const response = await request("POST", "/api/provider/link", { headers: { "X-API-Key": key.body.key }, body: { provider: "github" } });
    expectRefusal(response, 403, "forbidden");
  });

  it("a ticket whose session has ended collects nothing", async () => {
    const browser = newBrowser();
    const callback = await signInWith(browser, "oidc", providerUser());
    await env.DB.prepare(
      "UPDATE sessions SET revoked_at = ? WHERE revoked_at IS NULL AND id = (SELECT session_id FROM sign_in_tickets WHERE ticket_hash = ?)",
    )
      .bind(Date.now(), await sha256Hex(ticketOf(callback)))
      .run();
    expectRefusal(await collectTokens(browser, callback), 401, "invalid_token");
  });

  it("someone else's identity is not found, and managing identities needs a session", async () => {
    const browser = newBrowser();
    const tokens = await collectTokens(browser, await signInWith(browser, "oidc", providerUser()));
    const [identity] = (await request("GET", "/api/provider/identities", { token: tokens.body.accessToken })).body.identities;
    const stranger = await registerUser();
    expectRefusal(await request("DELETE", `/api/provider/identities/${identity.id}`, { token: stranger.accessToken }), 404, "not_found");
    expectRefusal(await request("GET", "/api/provider/identities"), 401, "unauthorized");
  });
});

describe("provider sign-in in the API description", () => {
  it("/openapi.json describes every provider route", async () => {
    const { paths } = (await request("GET", "/openapi.json")).body as { paths: Record<string, Record<string, unknown>> };
    const operations = Object.entries(paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(operations.filter((operation) => operation.includes("/api/provider/")).sort()).toEqual([
      "DELETE /api/provider/identities/{id}",
      "GET /api/provider/callback/{provider}",
      "GET /api/provider/identities",
      "GET /api/provider/list",
      "GET /api/provider/start",
      "POST /api/provider/callback/{provider}",
      "POST /api/provider/link",
      "POST /api/provider/start",
      "POST /api/provider/tokens",
    ]);
  });

  it("the hosted sign-in page is served under a strict CSP", async () => {
    const response = await request("GET", "/sign-in");
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Security-Policy")).toContain("default-src 'none'");
    expect(response.headers.get("Referrer-Policy")).toBe("no-referrer");
  });
});

describe("provider sign-in: anti-automation", () => {
  it("limits how many flows one address can start (each is a stored row)", async () => {
    const { PROVIDER_START_PER_IP } = await import("../../src/rate-limit/limits");
    const browser = newBrowser();
    for (let i = 0; i < PROVIDER_START_PER_IP.limit; i++) await startSignIn(browser, "oidc");
    const refused = await browse(browser, "POST", "/api/provider/start", { body: { provider: "oidc" } });
    expectRefusal(refused, 429, "rate_limited");
    expect(Number(refused.headers.get("Retry-After"))).toBeGreaterThan(0);
    // Another address is unaffected.
    await startSignIn(newBrowser(), "oidc");
  });
});
