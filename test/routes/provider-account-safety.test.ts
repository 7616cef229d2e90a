import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { auditEvents, registerUser, request, SESSION_COOKIE, sessionCookies, uniqueEmail, updateUser, type ApiResponse } from "../helpers/identity";
import { mailedToken, VERIFY_SUBJECT } from "../helpers/mail";
import { approveAtProvider, browse, newBrowser, returnToCallback, signInWith, startSignIn, ticketOf, type Browser } from "../helpers/providers";
import { enableTotp } from "../helpers/totp";

/**
 * Issue 22, items 4-7: provider sign-in must not be a way around sign-out, the second factor, the
 * owner's proof of their address, or a disabled account. Real loopback IdP (test/providers/fake-idp.ts).
 */

/** Full flows against the loopback IdP take several seconds on a loaded machine. */
const SLOW = { timeout: 30_000 };

/** A fresh provider user: a unique subject and email. */
function providerUser(overrides: Record<string, string> = {}) {
  return { sub: String(Math.floor(Math.random() * 1e12)), email: uniqueEmail("idp"), email_verified: "true", ...overrides };
}

/** The identities linked to an account, read from D1 (the caller's token may be dead by then). */
async function identitiesOf(userId: string): Promise<{ provider: string; subject: string }[]> {
  const { results } = await env.DB.prepare("SELECT provider, subject FROM user_identities WHERE user_id = ?").bind(userId).all<{ provider: string; subject: string }>();
  return results;
}

async function failureReasons(browser: Browser): Promise<unknown[]> {
  return (await auditEvents({ type: "provider.login_failed", ip: browser.ip })).map((event) => event.details.reason);
}

function expectRefusal(response: ApiResponse, status: number, code: string) {
  expect(response.status, response.text).toBe(status);
  expect(response.body.error).toMatchObject({ code, requestId: expect.any(String) });
  expect(response.headers.get("location")).toBeNull();
}

describe("a link flow dies with the session that started it (item 4)", () => {
  it("linking started, then sign-out: the callback links nothing, answers 401 and audits why", async () => {
    const owner = await registerUser();
    const browser = newBrowser();
    const user = providerUser();
    // A stolen token starts the link, and the owner signs out (or resets) before the IdP answers.
    const authorization = await startSignIn(browser, "oidc", { path: "/api/provider/link", token: owner.accessToken });
    expect((await request("POST", "/api/auth/logout", { token: owner.accessToken })).status).toBe(204);
    const callback = await returnToCallback(browser, await approveAtProvider(authorization, user));
    expectRefusal(callback, 401, "unauthorized");
    expect(await failureReasons(browser)).toEqual(["link_session_ended"]);
    expect(await identitiesOf(owner.userId)).toEqual([]);
    // The identity did not become anyone's: it signs in to an account of its own.
    expect(await env.DB.prepare("SELECT 1 FROM user_identities WHERE subject = ?").bind(user.sub).first()).toBeNull();
  });

  it("while the session lives, the same flow links", async () => {
    const owner = await registerUser();
    const linked = await signInWith(newBrowser(), "oidc", providerUser(), { path: "/api/provider/link", token: owner.accessToken });
    expect(linked.status, linked.text).toBe(302);
    expect(await identitiesOf(owner.userId)).toHaveLength(1);
  });
});

async function liveSessionCount(userId: string): Promise<number> {
  const row = await env.DB.prepare("SELECT count(*) AS n FROM sessions WHERE user_id = ? AND revoked_at IS NULL").bind(userId).first<{ n: number }>();
  return row!.n;
}

describe("a provider sign-in stops for the second factor, as a password login does (item 5)", () => {
  it("with TOTP on: no session or cookie at the callback, the ticket answers the MFA challenge, and a code finishes it", SLOW, async () => {
    const user = providerUser();
    const first = newBrowser();
    const tokens = await browse(first, "POST", "/api/provider/tokens", { body: { ticket: ticketOf(await signInWith(first, "oidc", user)) } });
    expect(tokens.status, tokens.text).toBe(200);
    const userId: string = tokens.body.user.id;
    const { authenticator } = await enableTotp(tokens.body.accessToken);
    const sessionsBefore = await liveSessionCount(userId);

    const browser = newBrowser();
    const callback = await signInWith(browser, "oidc", user);
    expect(callback.status, callback.text).toBe(302);
    expect(sessionCookies(callback.headers)).toEqual([]);
    expect(browser.cookies.has(SESSION_COOKIE)).toBe(false);
    expect(await liveSessionCount(userId)).toBe(sessionsBefore);
    expect(await auditEvents({ type: "login.succeeded", ip: browser.ip })).toEqual([]);

    const challenge = await browse(browser, "POST", "/api/provider/tokens", { body: { ticket: ticketOf(callback) } });
    expect(challenge.status, challenge.text).toBe(200);
    expect(challenge.body).toEqual({ mfaRequired: true, mfaToken: expect.any(String), expiresIn: 300, methods: ["totp", "recovery_code"] });
    expect(sessionCookies(challenge.headers)).toEqual([]);
    expect(await liveSessionCount(userId)).toBe(sessionsBefore);

    // The second step is the password login's own.
    const wrong = await browse(browser, "POST", "/api/auth/login/mfa", { body: { mfaToken: challenge.body.mfaToken, code: "000000" } });
    expect(wrong.status).toBe(401);
    const done = await browse(browser, "POST", "/api/auth/login/mfa", { body: { mfaToken: challenge.body.mfaToken, code: await authenticator.code() } });
    expect(done.status, done.text).toBe(200);
    expect(done.body.user.id).toBe(userId);
    expect(browser.cookies.has(SESSION_COOKIE)).toBe(true);
    expect(await liveSessionCount(userId)).toBe(sessionsBefore + 1);
    expect((await request("GET", "/api/auth/me", { token: done.body.accessToken })).body.id).toBe(userId);
  });
});

describe("a disabled account gains nothing from a provider (item 7)", () => {
  it("a provider identity with the account's verified email is refused 403 before it is linked", async () => {
    const owner = await registerUser();
    const verified = await request("POST", "/api/auth/verify-email", { body: { token: await mailedToken(owner.email, VERIFY_SUBJECT) } });
    expect(verified.status).toBe(200);
    await updateUser(owner.userId, { disabled_at: Date.now() });
    const browser = newBrowser();
    expectRefusal(await signInWith(browser, "oidc", providerUser({ email: owner.email })), 403, "forbidden");
    expect(await failureReasons(browser)).toEqual(["disabled"]);
    expect(await identitiesOf(owner.userId)).toEqual([]);
  });
});

