import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { attemptLogin, HASHING_HEAVY, login, refresh, registerUser } from "../support/accounts";
import { auditEvents, emailSubject } from "../support/audit";
import { sha256Hex } from "../support/encoding";
import { strongPassword, uniqueEmail } from "../support/fresh";
import { mailedToken, mailTo, RESET_SUBJECT } from "../support/mail";
import { request } from "../support/worker";

const forgot = (email: string, ip?: string) => request("POST", "/api/auth/password/forgot", { body: { email }, ip });
const reset = (token: string, password: string) => request("POST", "/api/auth/password/reset", { body: { token, password } });
const change = (accessToken: string, currentPassword: string, newPassword: string) =>
  request("POST", "/api/auth/password/change", { token: accessToken, body: { currentPassword, newPassword } });
const me = (options: { token?: string; cookie?: string }) => request("GET", "/api/auth/me", options);

/** Requests a reset for an account and returns the mailed token. */
async function resetToken(email: string): Promise<string> {
  expect((await forgot(email)).status).toBe(202);
  return mailedToken(email, RESET_SUBJECT);
}

describe("POST /api/auth/password/forgot", () => {
  it("answers the same body and status whether or not the account exists", async () => {
    const account = await registerUser();
    const known = await forgot(account.email);
    const unknown = await forgot(uniqueEmail("nobody"));
    expect(known.status).toBe(202);
    expect(unknown.status).toBe(known.status);
    expect(unknown.body).toEqual(known.body);
    expect([...unknown.headers.keys()].sort()).toEqual([...known.headers.keys()].sort());
    expect(unknown.headers.get("Content-Length")).toBe(known.headers.get("Content-Length"));
  });

  it("mails a single-use link, hashed at rest, that lives 15 minutes; no password is in it", async () => {
    const account = await registerUser();
    const token = await resetToken(account.email);
    const [message] = (await mailTo(account.email)).filter((mail) => mail.subject === RESET_SUBJECT);
    expect(message!.text).toContain(`https://id.heady.test/account/reset-password#token=${token}`);
    expect(message!.html).toContain(token);
    expect(message!.text).not.toContain(account.password);
    const row = await env.DB.prepare(
      "SELECT token_hash, created_at, expires_at FROM email_tokens WHERE user_id = ? AND purpose = 'reset_password'",
    )
      .bind(account.userId)
      .first<{ token_hash: string; created_at: number; expires_at: number }>();
    expect(row!.token_hash).toBe(await sha256Hex(token));
    expect(row!.expires_at - row!.created_at).toBe(15 * 60 * 1000);
  });

  it("audits the request, for unknown addresses by their hash", async () => {
    const account = await registerUser();
    await forgot(account.email);
    const [known] = await auditEvents({ subject: account.userId, type: "password.reset_requested" });
    expect(known!.details).toEqual({ sent: true });
    const stranger = uniqueEmail("nobody");
    await forgot(stranger);
    const [unknown] = await auditEvents({ subject: await emailSubject(stranger), type: "password.reset_requested" });
    expect(unknown!.details).toEqual({ sent: false });
  });

  it("is limited to 3 requests per address in 15 minutes, whether or not it has an account", async () => {
    for (const email of [(await registerUser()).email, uniqueEmail("nobody")]) {
      for (let i = 0; i < 3; i++) expect((await forgot(email)).status).toBe(202);
      const limited = await forgot(email);
      expect(limited.status).toBe(429);
      expect(limited.headers.get("Retry-After")).toMatch(/^\d+$/);
    }
  });

  it("refuses a malformed address with a 400 envelope", async () => {
    const response = await forgot("not-an-address");
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe("invalid_request");
  });
});

describe("POST /api/auth/password/reset", () => {
  it("sets the new password and ends every session, refresh family and access token", HASHING_HEAVY, async () => {
    const account = await registerUser();
    const second = await login(account.email, account.password);
    const token = await resetToken(account.email);
    const password = strongPassword();
    expect((await reset(token, password)).status).toBe(204);

    for (const session of [account, second]) {
      expect((await me({ token: session.accessToken })).status).toBe(401);
      expect((await me({ cookie: session.cookie })).status).toBe(401);
      expect((await refresh(session.refreshToken)).status).toBe(401);
    }
    expect((await attemptLogin(account.email, account.password)).status).toBe(401);
    const fresh = await login(account.email, password);
    // The link proved the mailbox.
    expect((await me({ token: fresh.accessToken })).body.emailVerified).toBe(true);
    expect(await auditEvents({ subject: account.userId, type: "password.reset" })).toHaveLength(1);
  });

  it("a reused reset token is refused", HASHING_HEAVY, async () => {
    const account = await registerUser();
    const token = await resetToken(account.email);
    expect((await reset(token, strongPassword())).status).toBe(204);
    const again = await reset(token, strongPassword());
    expect(again.status).toBe(400);
    expect(again.body.error.code).toBe("invalid_email_token");
  });

  it("a token sets the password of the account it was mailed for, never another's", HASHING_HEAVY, async () => {
    const victim = await registerUser();
    const attacker = await registerUser();
    const token = await resetToken(attacker.email);
    const password = strongPassword();
    expect((await reset(token, password)).status).toBe(204);
    // The attacker's own account changed; the victim's password and sessions are untouched.
    expect((await attemptLogin(victim.email, password)).status).toBe(401);
    expect((await login(victim.email, victim.password)).userId).toBe(victim.userId);
    expect((await me({ token: victim.accessToken })).status).toBe(200);
  });

  it("an expired token is refused", async () => {
    const account = await registerUser();
    const token = await resetToken(account.email);
    await env.DB.prepare("UPDATE email_tokens SET expires_at = ? WHERE user_id = ? AND purpose = 'reset_password'")
      .bind(Date.now() - 1, account.userId)
      .run();
    const response = await reset(token, strongPassword());
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe("invalid_email_token");
    expect((await me({ token: account.accessToken })).status).toBe(200);
  });

  it("a newer request replaces the earlier link", HASHING_HEAVY, async () => {
    const account = await registerUser();
    const first = await resetToken(account.email);
    expect((await forgot(account.email)).status).toBe(202);
    await mailTo(account.email, { atLeast: 3 });
    expect((await reset(first, strongPassword())).status).toBe(400);
  });

  it("a weak password gets 400 weak_password and leaves the link usable", HASHING_HEAVY, async () => {
    const account = await registerUser();
    const token = await resetToken(account.email);
    const weak = await reset(token, "password");
    expect(weak.status).toBe(400);
    expect(weak.body.error.code).toBe("weak_password");
    expect((await reset(token, strongPassword())).status).toBe(204);
  });

  it("a disabled account's link does nothing", async () => {
    const account = await registerUser();
    const token = await resetToken(account.email);
    await env.DB.prepare("UPDATE users SET disabled_at = ? WHERE id = ?").bind(Date.now(), account.userId).run();
    expect((await reset(token, strongPassword())).status).toBe(400);
  });
});

describe("POST /api/auth/password/change", () => {
  it("needs the current password, and ends the other sessions but not this one", HASHING_HEAVY, async () => {
    const account = await registerUser();
    const other = await login(account.email, account.password);
    const password = strongPassword();
    const wrong = await change(account.accessToken, "not the password at all", password);
    expect(wrong.status).toBe(403);
    expect((await me({ token: other.accessToken })).status).toBe(200);

    expect((await change(account.accessToken, account.password, password)).status).toBe(204);
    expect((await me({ token: account.accessToken })).status).toBe(200);
    expect((await me({ token: other.accessToken })).status).toBe(401);
    expect((await refresh(other.refreshToken)).status).toBe(401);
    expect((await attemptLogin(account.email, account.password)).status).toBe(401);
    expect((await login(account.email, password)).userId).toBe(account.userId);
    expect(await auditEvents({ subject: account.userId, type: "password.changed" })).toHaveLength(1);
    expect(await auditEvents({ subject: account.userId, type: "password.change_failed" })).toHaveLength(1);
  });

  it("wrong current passwords count against the login lockout of that client", HASHING_HEAVY, async () => {
    const account = await registerUser();
    const ip = "10.200.1.1";
    const attempt = () =>
      request("POST", "/api/auth/password/change", {
        token: account.accessToken,
        ip,
        body: { currentPassword: "wrong-guess-123456", newPassword: strongPassword() },
      });
    for (let i = 0; i < 5; i++) expect((await attempt()).status).toBe(403);
    expect((await attempt()).status).toBe(429);
  });

  it("the new password meets the policy", HASHING_HEAVY, async () => {
    const account = await registerUser();
    const response = await change(account.accessToken, account.password, account.email);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe("weak_password");
  });

  it("an API key cannot change the password", async () => {
    const account = await registerUser();
    const key = await request("POST", "/api/auth/api-keys", { token: account.accessToken, body: { description: "ci" } });
    const response = await request("POST", "/api/auth/password/change", {
      headers: { "X-API-Key": key.body.key },
      body: { currentPassword: account.password, newPassword: strongPassword() },
    });
    expect(response.status).toBe(403);
  });
});
