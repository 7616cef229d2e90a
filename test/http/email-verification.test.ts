import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { login, refresh, registerUser } from "../support/accounts";
import { auditEvents } from "../support/audit";
import { sha256Hex } from "../support/encoding";
import { mailedToken, mailTo, tokenInMail, VERIFY_SUBJECT } from "../support/mail";
import { decodePayload } from "../support/tokens";
import { request } from "../support/worker";

const verifyEmail = (token: string) => request("POST", "/api/auth/verify-email", { body: { token } });
const resend = (accessToken: string) => request("POST", "/api/auth/verify-email/resend", { token: accessToken });
const me = (accessToken: string) => request("GET", "/api/auth/me", { token: accessToken });

describe("email verification", () => {
  it("registration mails a link in plain text and HTML, with no password in it", async () => {
    const account = await registerUser();
    const [message] = await mailTo(account.email);
    expect(message!.subject).toBe(VERIFY_SUBJECT);
    expect(message!.text).toMatch(/https:\/\/id\.heady\.test\/account\/verify-email#token=[A-Za-z0-9_-]{43}/);
    expect(message!.html).toContain(`#token=${tokenInMail(message!)}`);
    expect(message!.text).not.toContain(account.password);
    expect(message!.html).not.toContain(account.password);
  });

  it("keeps only the token's SHA-256, with a 24-hour life", async () => {
    const account = await registerUser();
    const token = await mailedToken(account.email, VERIFY_SUBJECT);
    const row = await env.DB.prepare(
      "SELECT token_hash, created_at, expires_at FROM email_tokens WHERE user_id = ? AND purpose = 'verify_email'",
    )
      .bind(account.userId)
      .first<{ token_hash: string; created_at: number; expires_at: number }>();
    expect(row!.token_hash).toBe(await sha256Hex(token));
    expect(row!.expires_at - row!.created_at).toBe(24 * 60 * 60 * 1000);
  });

  it("confirms the address: /me and new access tokens say emailVerified, and it is audited", async () => {
    const account = await registerUser();
    expect((await me(account.accessToken)).body.emailVerified).toBe(false);
    expect(decodePayload(account.accessToken).email_verified).toBe(false);
    const response = await verifyEmail(await mailedToken(account.email, VERIFY_SUBJECT));
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ emailVerified: true });
    expect((await me(account.accessToken)).body.emailVerified).toBe(true);
    expect(decodePayload((await login(account.email, account.password)).accessToken).email_verified).toBe(true);
    const refreshed = await refresh(account.refreshToken);
    expect(decodePayload(refreshed.body.accessToken).email_verified).toBe(true);
    expect(await auditEvents({ subject: account.userId, type: "email.verified" })).toHaveLength(1);
  });

  it("a token works once", async () => {
    const account = await registerUser();
    const token = await mailedToken(account.email, VERIFY_SUBJECT);
    expect((await verifyEmail(token)).status).toBe(200);
    const again = await verifyEmail(token);
    expect(again.status).toBe(400);
    expect(again.body.error.code).toBe("invalid_email_token");
  });

  it("an expired token, an unknown one and a malformed one are refused alike", async () => {
    const account = await registerUser();
    const token = await mailedToken(account.email, VERIFY_SUBJECT);
    await env.DB.prepare("UPDATE email_tokens SET expires_at = ? WHERE user_id = ?")
      .bind(Date.now() - 1, account.userId)
      .run();
    for (const candidate of [token, "A".repeat(43), "not a token"]) {
      const response = await verifyEmail(candidate);
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe("invalid_email_token");
    }
    expect((await me(account.accessToken)).body.emailVerified).toBe(false);
  });

  it("a reset token does not verify, nor does a verification token reset", async () => {
    const account = await registerUser();
    const token = await mailedToken(account.email, VERIFY_SUBJECT);
    const reset = await request("POST", "/api/auth/password/reset", { body: { token, password: "a brand new passphrase 42" } });
    expect(reset.status).toBe(400);
    expect(reset.body.error.code).toBe("invalid_email_token");
    expect((await verifyEmail(token)).status).toBe(200);
  });

  it("a resend replaces the earlier link", async () => {
    const account = await registerUser();
    const first = await mailedToken(account.email, VERIFY_SUBJECT);
    expect((await resend(account.accessToken)).status).toBe(202);
    const second = await mailedToken(account.email, VERIFY_SUBJECT, { atLeast: 2 });
    expect(second).not.toBe(first);
    expect((await verifyEmail(first)).status).toBe(400);
    expect((await verifyEmail(second)).status).toBe(200);
  });

  it("resend is limited to 3 an hour, and refused once verified", async () => {
    const account = await registerUser();
    for (let i = 0; i < 3; i++) expect((await resend(account.accessToken)).status).toBe(202);
    const limited = await resend(account.accessToken);
    expect(limited.status).toBe(429);
    expect(limited.headers.get("Retry-After")).toMatch(/^\d+$/);

    const other = await registerUser();
    expect((await verifyEmail(await mailedToken(other.email, VERIFY_SUBJECT))).status).toBe(200);
    expect((await resend(other.accessToken)).status).toBe(409);
  });

  it("resend needs a session: no credential is 401", async () => {
    expect((await request("POST", "/api/auth/verify-email/resend")).status).toBe(401);
  });

  it("bad input is a 400 envelope", async () => {
    const response = await request("POST", "/api/auth/verify-email", { body: { token: 42 } });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe("invalid_request");
  });
});
