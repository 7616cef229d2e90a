import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { matchingTotpStep } from "../../src/account-security/totp";
import { attemptLogin, HASHING_HEAVY, registerUser } from "../support/accounts";
import { auditEvents } from "../support/audit";
import { sessionCookie } from "../support/cookies";
import { randomIp } from "../support/fresh";
import { authenticatorFor, currentStep, enableTotp, hotp } from "../support/totp";
import { request } from "../support/worker";

const mfaLogin = (body: Record<string, string>, ip?: string) => request("POST", "/api/auth/login/mfa", { body, ip });

/** Registers an account with TOTP on; answers it, its authenticator and recovery codes. */
async function accountWithTotp() {
  const account = await registerUser();
  const { authenticator, recoveryCodes } = await enableTotp(account.accessToken);
  return { account, authenticator, recoveryCodes };
}

/** The password step of a login with MFA on: answers the challenge. */
async function passwordStep(email: string, password: string, ip?: string): Promise<string> {
  const response = await attemptLogin(email, password, { ip });
  expect(response.status).toBe(200);
  expect(response.body).toMatchObject({ mfaRequired: true, expiresIn: 300, methods: ["totp", "recovery_code"] });
  expect(response.body.accessToken).toBeUndefined();
  expect(response.headers.getSetCookie()).toEqual([]);
  return response.body.mfaToken;
}

describe("TOTP codes (RFC 6238)", () => {
  it("match the RFC 6238 SHA-1 test vectors, 6 digits, within ±1 step", () => {
    // RFC 6238 Appendix B: secret "12345678901234567890"; T = 59 s gives 94287082, whose last 6 digits are 287082.
    const secret = btoa("12345678901234567890").replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    expect(matchingTotpStep(secret, "287082", 59_000)).toBe(1);
    expect(matchingTotpStep(secret, "081804", 1_111_111_109_000)).toBe(37_037_036);
    // One step either side is accepted, two are not.
    expect(matchingTotpStep(secret, "287082", 59_000 + 30_000)).toBe(1);
    expect(matchingTotpStep(secret, "287082", 59_000 + 60_000)).toBeUndefined();
    expect(matchingTotpStep(secret, "28708", 59_000)).toBeUndefined();
  });
});

describe("TOTP enrolment", () => {
  it("answers a QR-ready otpauth URI, and changes nothing until a first code confirms it", HASHING_HEAVY, async () => {
    const account = await registerUser();
    const enrolled = await request("POST", "/api/auth/mfa/totp/enroll", { token: account.accessToken });
    expect(enrolled.status).toBe(200);
    const uri = new URL(enrolled.body.otpauthUri);
    expect(uri.protocol).toBe("otpauth:");
    expect(uri.host).toBe("totp");
    expect(uri.searchParams.get("issuer")).toBe("HeadyKey");
    expect(uri.searchParams.get("period")).toBe("30");
    expect(uri.searchParams.get("digits")).toBe("6");
    expect(enrolled.body.secret).toBe(uri.searchParams.get("secret"));
    expect(enrolled.body.secret).toMatch(/^[A-Z2-7]{32}$/);
    // Unconfirmed: the password alone still signs in.
    expect((await attemptLogin(account.email, account.password)).body.accessToken).toBeDefined();

    const authenticator = authenticatorFor(enrolled.body.otpauthUri);
    const wrong = await request("POST", "/api/auth/mfa/totp/confirm", {
      token: account.accessToken,
      body: { code: await hotp(authenticator.secret, currentStep(5)) },
    });
    expect(wrong.status).toBe(400);
    const confirmed = await request("POST", "/api/auth/mfa/totp/confirm", {
      token: account.accessToken,
      body: { code: await authenticator.code() },
    });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.recoveryCodes).toHaveLength(10);
    expect(new Set(confirmed.body.recoveryCodes).size).toBe(10);
    expect((await request("GET", "/api/auth/mfa", { token: account.accessToken })).body).toEqual({ totp: true, recoveryCodesLeft: 10 });
    expect(await auditEvents({ subject: account.userId, type: "mfa.enabled" })).toHaveLength(1);
  });

  it("keeps only hashes of the recovery codes", async () => {
    const { account, recoveryCodes } = await accountWithTotp();
    const { results } = await env.DB.prepare("SELECT code_hash FROM recovery_codes WHERE user_id = ?")
      .bind(account.userId)
      .all<{ code_hash: string }>();
    expect(results).toHaveLength(10);
    const stored = JSON.stringify(results);
    for (const code of recoveryCodes) expect(stored).not.toContain(code.replace("-", ""));
  });

  it("a second enrolment is refused while TOTP is on", async () => {
    const { account } = await accountWithTotp();
    expect((await request("POST", "/api/auth/mfa/totp/enroll", { token: account.accessToken })).status).toBe(409);
  });

  it("an API key cannot enrol", async () => {
    const account = await registerUser();
    const key = await request("POST", "/api/auth/api-keys", { token: account.accessToken, body: { description: "ci" } });
    expect((await request("POST", "/api/auth/mfa/totp/enroll", { headers: { "X-API-Key": key.body.key } })).status).toBe(403);
  });
});

describe("login with TOTP on", () => {
  it("is two steps: the password answers a challenge, the code answers the session", async () => {
    const { account, authenticator } = await accountWithTotp();
    const mfaToken = await passwordStep(account.email, account.password);
    const response = await mfaLogin({ mfaToken, code: await authenticator.code() });
    expect(response.status).toBe(200);
    expect(Object.keys(response.body).sort()).toEqual(["accessToken", "expiresIn", "refreshToken", "user"]);
    expect(sessionCookie(response.headers).value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const [event] = await auditEvents({ subject: account.userId, type: "login.succeeded" });
    expect(event!.details).toMatchObject({ mfa: "totp" });
  });

  it("a TOTP code is refused a second time inside its step (replay), also on a fresh challenge", async () => {
    const { account, authenticator } = await accountWithTotp();
    const code = await authenticator.code();
    expect((await mfaLogin({ mfaToken: await passwordStep(account.email, account.password), code })).status).toBe(200);
    const replay = await mfaLogin({ mfaToken: await passwordStep(account.email, account.password), code });
    expect(replay.status).toBe(401);
    expect(replay.body.error.code).toBe("invalid_credentials");
    // An earlier step's code is no good either once a later one was accepted.
    expect(
      (await mfaLogin({ mfaToken: await passwordStep(account.email, account.password), code: await authenticator.code(-1) })).status,
    ).toBe(401);
  });

  it("accepts the next step's code (±1 window) but not one two steps away", async () => {
    const { account, authenticator } = await accountWithTotp();
    const far = await mfaLogin({ mfaToken: await passwordStep(account.email, account.password), code: await authenticator.code(2) });
    expect(far.status).toBe(401);
    expect(
      (await mfaLogin({ mfaToken: await passwordStep(account.email, account.password), code: await authenticator.code(1) })).status,
    ).toBe(200);
  });

  it("a recovery code works once", async () => {
    const { account, recoveryCodes } = await accountWithTotp();
    const [code] = recoveryCodes;
    const first = await mfaLogin({ mfaToken: await passwordStep(account.email, account.password), recoveryCode: code!.toUpperCase() });
    expect(first.status).toBe(200);
    const again = await mfaLogin({ mfaToken: await passwordStep(account.email, account.password), recoveryCode: code! });
    expect(again.status).toBe(401);
    expect(again.body.error.code).toBe("invalid_credentials");
    const [used] = await auditEvents({ subject: account.userId, type: "mfa.recovery_code_used" });
    expect(used!.details).toEqual({ left: 9 });
  });

  it("another account's recovery code does not work", async () => {
    const { account } = await accountWithTotp();
    const other = await accountWithTotp();
    const response = await mfaLogin({
      mfaToken: await passwordStep(account.email, account.password),
      recoveryCode: other.recoveryCodes[0]!,
    });
    expect(response.status).toBe(401);
  });

  it("a challenge used after its 5 minutes is refused, even with the right code", async () => {
    const { account, authenticator } = await accountWithTotp();
    const mfaToken = await passwordStep(account.email, account.password);
    await env.DB.prepare("UPDATE mfa_challenges SET expires_at = ? WHERE user_id = ?")
      .bind(Date.now() - 1, account.userId)
      .run();
    const response = await mfaLogin({ mfaToken, code: await authenticator.code() });
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe("invalid_token");
  });

  it("a challenge works once, and an unknown one is refused", async () => {
    const { account, authenticator } = await accountWithTotp();
    const mfaToken = await passwordStep(account.email, account.password);
    expect((await mfaLogin({ mfaToken, code: await authenticator.code() })).status).toBe(200);
    expect((await mfaLogin({ mfaToken, code: await authenticator.code(1) })).body.error.code).toBe("invalid_token");
    expect((await mfaLogin({ mfaToken: "x".repeat(43), code: "123456" })).body.error.code).toBe("invalid_token");
  });

  it("a challenge takes 5 wrong codes, then is dead", async () => {
    const { account, authenticator } = await accountWithTotp();
    const mfaToken = await passwordStep(account.email, account.password);
    for (let i = 0; i < 5; i++)
      expect((await mfaLogin({ mfaToken, code: await hotp(authenticator.secret, currentStep(10 + i)) }, randomIp())).status).toBe(401);
    const dead = await mfaLogin({ mfaToken, code: await authenticator.code() });
    expect(dead.body.error.code).toBe("invalid_token");
  });

  it("wrong codes count against the client's login lockout, which the password step does not clear", HASHING_HEAVY, async () => {
    const { account, authenticator } = await accountWithTotp();
    const ip = randomIp();
    let wrong = 0;
    while (wrong < 5) {
      const mfaToken = await passwordStep(account.email, account.password, ip);
      const response = await mfaLogin({ mfaToken, code: await hotp(authenticator.secret, currentStep(10 + wrong)) }, ip);
      if (response.status === 429) break;
      expect(response.status).toBe(401);
      wrong++;
    }
    // Each password step and each wrong code is an attempt; the lockout (5 per 15 minutes) holds.
    const locked = await attemptLogin(account.email, account.password, { ip });
    expect(locked.status).toBe(429);
  });

  it("needs exactly one of code and recoveryCode", async () => {
    const response = await mfaLogin({ mfaToken: "x".repeat(43) });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe("invalid_request");
  });
});

describe("disabling TOTP", () => {
  it("needs a fresh code; a used one or a recovery code does not do", async () => {
    const { account, authenticator, recoveryCodes } = await accountWithTotp();
    const used = await authenticator.code(-1); // the confirming code
    expect((await request("POST", "/api/auth/mfa/totp/disable", { token: account.accessToken, body: { code: used } })).status).toBe(400);
    expect(
      (await request("POST", "/api/auth/mfa/totp/disable", { token: account.accessToken, body: { code: recoveryCodes[0] } })).status,
    ).toBe(400);
    const off = await request("POST", "/api/auth/mfa/totp/disable", {
      token: account.accessToken,
      body: { code: await authenticator.code() },
    });
    expect(off.status).toBe(204);
    expect((await attemptLogin(account.email, account.password)).body.accessToken).toBeDefined();
    expect((await request("GET", "/api/auth/mfa", { token: account.accessToken })).body).toEqual({ totp: false, recoveryCodesLeft: 0 });
    expect(await auditEvents({ subject: account.userId, type: "mfa.disabled" })).toHaveLength(1);
  });
});
