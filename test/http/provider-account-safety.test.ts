import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { attemptLogin, HASHING_HEAVY, registerUser, updateUser } from "../support/accounts";
import { auditEvents } from "../support/audit";
import { BASE_URL } from "../support/config";
import { SESSION_COOKIE, sessionCookies } from "../support/cookies";
import { strongPassword, uniqueEmail } from "../support/fresh";
import type { ApiResponse } from "../support/http";
import { mailedToken, RESET_SUBJECT, VERIFY_SUBJECT } from "../support/mail";
import {
  approveAtProvider,
  type Browser,
  browse,
  newBrowser,
  returnToCallback,
  signInWith,
  startSignIn,
  ticketOf,
} from "../support/providers";
import { enableTotp } from "../support/totp";
import { SoftAuthenticator } from "../support/webauthn";
import { request } from "../support/worker";

/**
 * Issue 22, items 4-7: provider sign-in must not be a way around sign-out, the second factor, the
 * owner's proof of their address, or a disabled account. Real loopback IdP (test/support/servers/fake-idp.ts).
 */

/** Full flows against the loopback IdP take several seconds on a loaded machine. */
const SLOW = { timeout: 30_000 };

/** A fresh provider user: a unique subject and email. */
function providerUser(overrides: Record<string, string> = {}) {
  return { sub: String(Math.floor(Math.random() * 1e12)), email: uniqueEmail("idp"), email_verified: "true", ...overrides };
}

/** The identities linked to an account, read from D1 (the caller's token may be dead by then). */
async function identitiesOf(userId: string): Promise<{ provider: string; subject: string }[]> {
  const { results } = await env.DB.prepare("SELECT provider, subject FROM user_identities WHERE user_id = ?")
    .bind(userId)
    .all<{ provider: string; subject: string }>();
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
  const row = await env.DB.prepare("SELECT count(*) AS n FROM sessions WHERE user_id = ? AND revoked_at IS NULL")
    .bind(userId)
    .first<{ n: number }>();
  return row!.n;
}

describe("a provider sign-in stops for the second factor, as a password login does (item 5)", () => {
  it("with TOTP on: no session or cookie at the callback, the ticket answers the MFA challenge, and a code finishes it", SLOW, async () => {
    const user = providerUser();
    const first = newBrowser();
    const tokens = await browse(first, "POST", "/api/provider/tokens", {
      body: { ticket: ticketOf(await signInWith(first, "oidc", user)) },
    });
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
    const done = await browse(browser, "POST", "/api/auth/login/mfa", {
      body: { mfaToken: challenge.body.mfaToken, code: await authenticator.code() },
    });
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

/** The attacker's IdP account claims the victim's address without verifying it; HeadyKey creates the account, signed in. */
async function preHijacked() {
  const victim = uniqueEmail("victim");
  const attacker = providerUser({ email: victim, email_verified: "false" });
  const attackerBrowser = newBrowser();
  const attackerIn = await browse(attackerBrowser, "POST", "/api/provider/tokens", {
    body: { ticket: ticketOf(await signInWith(attackerBrowser, "oidc", attacker)) },
  });
  expect(attackerIn.status, attackerIn.text).toBe(200);
  return { victim, attacker, attackerBrowser, attackerIn, accountId: attackerIn.body.user.id as string };
}

describe("confirming the address by mail ends what a non-verifying provider attached (item 6)", () => {
  it(
    "pre-hijacking: the owner cannot register, resets the password, and the attacker's identity no longer signs in",
    HASHING_HEAVY,
    async () => {
      const { victim, attacker, attackerBrowser, attackerIn, accountId } = await preHijacked();
      // While holding the account, the attacker links a second identity of their own (a verified, other address).
      const second = providerUser({ email: uniqueEmail("attacker") });
      expect(
        (await signInWith(attackerBrowser, "github", second, { path: "/api/provider/link", token: attackerIn.body.accessToken })).status,
      ).toBe(302);
      expect(await identitiesOf(accountId)).toHaveLength(2);

      // The owner cannot register, so they use forgot-password, which mails the owner.
      expect((await request("POST", "/api/auth/register", { body: { email: victim, password: strongPassword() } })).status).toBe(409);
      expect((await request("POST", "/api/auth/password/forgot", { body: { email: victim } })).status).toBe(202);
      const password = strongPassword();
      expect(
        (await request("POST", "/api/auth/password/reset", { body: { token: await mailedToken(victim, RESET_SUBJECT), password } })).status,
      ).toBe(204);

      // Neither of the attacker's identities signs in to the owner's account any more.
      expect(await identitiesOf(accountId)).toEqual([]);
      const unlinked = await auditEvents({ type: "provider.unlinked", subject: accountId });
      expect(unlinked.map((event) => [event.details.provider, event.details.reason]).sort()).toEqual([
        ["github", "address_confirmed"],
        ["oidc", "address_confirmed"],
      ]);
      const again = newBrowser();
      const refused = await signInWith(again, "oidc", attacker);
      expectRefusal(refused, 409, "account_link_required");
      const github = newBrowser();
      const other = await browse(github, "POST", "/api/provider/tokens", {
        body: { ticket: ticketOf(await signInWith(github, "github", second)) },
      });
      expect(other.body.user.id).not.toBe(accountId);
      expect((await request("GET", "/api/auth/me", { token: attackerIn.body.accessToken })).status).toBe(401);
      // The owner's way in is the password they set.
      const owner = await attemptLogin(victim, password);
      expect(owner.status, owner.text).toBe(200);
      expect(owner.body.user).toMatchObject({ id: accountId, emailVerified: true });
    },
  );

  it("pre-hijacking: a passkey, TOTP and an API key the attacker planted end at the owner's reset too", HASHING_HEAVY, async () => {
    const { victim, attackerIn, accountId } = await preHijacked();
    const token: string = attackerIn.body.accessToken;
    // Fresh from signing in, the attacker plants every way back in it can.
    const passkey = new SoftAuthenticator({ origin: BASE_URL, rpId: new URL(BASE_URL).hostname });
    const options = await request("POST", "/api/auth/passkeys/register/options", { token });
    const registered = await request("POST", "/api/auth/passkeys/register/verify", {
      token,
      body: { challengeId: options.body.challengeId, response: await passkey.register(options.body.options) },
    });
    expect(registered.status, registered.text).toBe(201);
    await enableTotp(token);
    const key = await request("POST", "/api/auth/api-keys", { token, body: { description: "planted" } });
    expect(key.status, key.text).toBe(201);

    expect((await request("POST", "/api/auth/password/forgot", { body: { email: victim } })).status).toBe(202);
    const password = strongPassword();
    expect(
      (await request("POST", "/api/auth/password/reset", { body: { token: await mailedToken(victim, RESET_SUBJECT), password } })).status,
    ).toBe(204);

    const count = async (table: string) =>
      (await env.DB.prepare(`SELECT count(*) AS n FROM ${table} WHERE user_id = ?`).bind(accountId).first<{ n: number }>())!.n;
    expect(await count("passkeys")).toBe(0);
    expect(await count("totp_credentials")).toBe(0);
    expect(await count("recovery_codes")).toBe(0);
    expect((await request("GET", "/api/auth/verify", { headers: { "X-API-Key": key.body.key } })).status).toBe(401);
    const [removed] = await auditEvents({ type: "account.planted_access_removed", subject: accountId });
    expect(removed?.details).toMatchObject({ passkeys: 1, apiKeys: 1, totp: true, reason: "address_confirmed" });
    // The owner signs in with the password alone: no second factor they never set up stands in the way.
    const owner = await attemptLogin(victim, password);
    expect(owner.status, owner.text).toBe(200);
    expect(owner.body.accessToken).toBeDefined();
  });

  it(
    "email verification of an unconfirmed account keeps only identities vouched for that address, and ends its sessions",
    SLOW,
    async () => {
      const owner = await registerUser();
      const vouched = providerUser({ email: owner.email });
      const otherAddress = providerUser({ email: uniqueEmail("other") });
      const unverified = providerUser({ email: owner.email, email_verified: "false" });
      for (const [provider, user] of [
        ["oidc", vouched],
        ["oidc", unverified],
        ["github", otherAddress],
      ] as const) {
        expect((await signInWith(newBrowser(), provider, user, { path: "/api/provider/link", token: owner.accessToken })).status).toBe(302);
      }
      expect(await identitiesOf(owner.userId)).toHaveLength(3);

      const verified = await request("POST", "/api/auth/verify-email", { body: { token: await mailedToken(owner.email, VERIFY_SUBJECT) } });
      expect(verified.status, verified.text).toBe(200);
      expect(await identitiesOf(owner.userId)).toEqual([{ provider: "oidc", subject: vouched.sub }]);
      expect((await request("GET", "/api/auth/me", { token: owner.accessToken })).status).toBe(401);
      expect((await attemptLogin(owner.email, owner.password)).body.user.emailVerified).toBe(true);
    },
  );

  it("an account whose address is already confirmed keeps its linked identities at a reset", HASHING_HEAVY, async () => {
    const owner = await registerUser();
    expect(
      (await request("POST", "/api/auth/verify-email", { body: { token: await mailedToken(owner.email, VERIFY_SUBJECT) } })).status,
    ).toBe(200);
    const linked = providerUser({ email: uniqueEmail("other"), email_verified: "false" });
    expect((await signInWith(newBrowser(), "github", linked, { path: "/api/provider/link", token: owner.accessToken })).status).toBe(302);
    expect((await request("POST", "/api/auth/password/forgot", { body: { email: owner.email } })).status).toBe(202);
    const reset = await request("POST", "/api/auth/password/reset", {
      body: { token: await mailedToken(owner.email, RESET_SUBJECT), password: strongPassword() },
    });
    expect(reset.status).toBe(204);
    expect(await identitiesOf(owner.userId)).toEqual([{ provider: "github", subject: linked.sub }]);
  });
});
