import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CURRENT_PASSWORD_PARAMS } from "../../src/crypto/password";
import { REGISTER_PER_IP } from "../../src/rate-limit/limits";
import { findUser, HASHING_HEAVY, login, registerUser } from "../support/accounts";
import { auditEvents } from "../support/audit";
import { testConfig } from "../support/config";
import { sessionCookies } from "../support/cookies";
import { sha256Hex } from "../support/encoding";
import { randomIp, strongPassword, uniqueEmail } from "../support/fresh";
import { decodeHeader, decodePayload } from "../support/tokens";
import { request } from "../support/worker";

const register = (body: unknown, ip?: string) => request("POST", "/api/auth/register", { body, ip });

describe("POST /api/auth/register: happy path", () => {
  it("creates a user-role account and answers 201 with the profile, tokens and lifetime", async () => {
    const email = uniqueEmail("reg");
    const response = await register({ email, password: strongPassword(), displayName: "Ada" });
    expect(response.status).toBe(201);
    expect(response.body.user).toEqual({
      id: expect.any(String),
      email,
      role: "user",
      displayName: "Ada",
      emailVerified: false,
      createdAt: expect.any(String),
    });
    expect(Math.abs(Date.parse(response.body.user.createdAt) - Date.now())).toBeLessThan(60_000);
    expect(response.body.refreshToken).toMatch(/^[0-9a-f]{68}$/);
    expect(response.body.expiresIn).toBe(testConfig().accessTokenTtlSeconds);
    expect(Object.keys(response.body).sort()).toEqual(["accessToken", "expiresIn", "refreshToken", "user"]);
  });

  it("issues an at+jwt access token with every claim the design requires", async () => {
    const session = await registerUser();
    const header = decodeHeader(session.accessToken);
    expect(header).toEqual({ alg: "HS256", typ: "at+jwt", kid: expect.stringMatching(/^at-[0-9a-f]{16}$/) });
    const claims = decodePayload(session.accessToken);
    const config = testConfig();
    expect(claims).toMatchObject({
      iss: config.issuer,
      aud: config.accessTokenAudience,
      sub: session.userId,
      email: session.email,
      role: "user",
      sid: expect.any(String),
      jti: expect.any(String),
    });
    expect((claims.exp as number) - (claims.iat as number)).toBe(config.accessTokenTtlSeconds);
    expect((await request("GET", "/api/auth/me", { token: session.accessToken })).body.id).toBe(session.userId);
  });

  it("sets the session cookie, and the cookie alone signs the new user in", async () => {
    const session = await registerUser();
    expect(sessionCookies(session.response.headers)).toHaveLength(1);
    const me = await request("GET", "/api/auth/me", { cookie: session.cookie });
    expect(me.status).toBe(200);
    expect(me.body.id).toBe(session.userId);
  });

  it("lower-cases the email, so the account is found whatever case is typed later", async () => {
    const local = `MiXeD-${crypto.randomUUID().slice(0, 8)}`;
    const response = await register({ email: `${local}@Example.TEST`, password: "quiet-harbour-1987" });
    expect(response.status).toBe(201);
    expect(response.body.user.email).toBe(`${local.toLowerCase()}@example.test`);
    const again = await login(`${local.toUpperCase()}@EXAMPLE.test`, "quiet-harbour-1987");
    expect(again.userId).toBe(response.body.user.id);
  });

  it("trims the display name and stores null when none is given", async () => {
    const named = await register({ email: uniqueEmail(), password: strongPassword(), displayName: "   Grace Hopper  " });
    expect(named.body.user.displayName).toBe("Grace Hopper");
    const anonymous = await register({ email: uniqueEmail(), password: strongPassword() });
    expect(anonymous.body.user.displayName).toBeNull();
  });

  it("stores only a current-parameter PHC hash with a fresh salt, never the password", async () => {
    const password = strongPassword();
    const first = await registerUser({ password });
    const second = await registerUser({ password });
    const firstRow = await findUser(first.email);
    const secondRow = await findUser(second.email);
    const phc = new RegExp(
      `^\\$pbkdf2-sha256\\$i=${CURRENT_PASSWORD_PARAMS.iterations},r=${CURRENT_PASSWORD_PARAMS.rounds}\\$[A-Za-z0-9_-]{22}\\$[A-Za-z0-9_-]{43}$`,
    );
    expect(firstRow?.password_hash).toMatch(phc);
    expect(firstRow?.password_hash).not.toContain(password);
    expect(firstRow?.password_hash.split("$")[3]).not.toBe(secondRow?.password_hash.split("$")[3]);
    expect(firstRow?.password_hash).not.toBe(secondRow?.password_hash);
  });

  it("stores the refresh token and cookie only as SHA-256 hashes", async () => {
    const session = await registerUser();
    const stored = await env.DB.prepare(
      "SELECT r.token_hash AS tokenHash, s.cookie_hash AS cookieHash FROM refresh_tokens r JOIN sessions s ON s.id = r.family_id WHERE r.user_id = ?",
    )
      .bind(session.userId)
      .all<{ tokenHash: string; cookieHash: string }>();
    expect(stored.results).toEqual([{ tokenHash: await sha256Hex(session.refreshToken), cookieHash: await sha256Hex(session.cookie) }]);
    const leaked = await env.DB.prepare("SELECT count(*) AS n FROM refresh_tokens WHERE token_hash = ? OR id = ?")
      .bind(session.refreshToken, session.refreshToken)
      .first<{ n: number }>();
    expect(leaked?.n).toBe(0);
  });

  it("records a user.registered audit event with the request id and client address", async () => {
    const ip = randomIp();
    const email = uniqueEmail();
    const response = await request("POST", "/api/auth/register", {
      body: { email, password: strongPassword() },
      ip,
      headers: { "User-Agent": "register-test/1.0" },
    });
    expect(response.status).toBe(201);
    const events = await auditEvents({ subject: response.body.user.id, type: "user.registered" });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ ip, user_agent: "register-test/1.0", request_id: response.headers.get("X-Request-Id") });
    expect(JSON.stringify(events[0])).not.toContain(email);
  });
});

describe("POST /api/auth/register: errors", () => {
  it("refuses a second account for the same email, in any case, and keeps the first password", async () => {
    const first = await registerUser();
    const duplicate = await register({ email: first.email, password: strongPassword() });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.error.code).toBe("email_taken");
    expect(sessionCookies(duplicate.headers)).toHaveLength(0);
    const shouted = await register({ email: first.email.toUpperCase(), password: strongPassword() });
    expect(shouted.status).toBe(409);
    expect((await login(first.email, first.password)).userId).toBe(first.userId);
  });

  it.each([
    ["a missing email", { password: "quiet-harbour-1987" }],
    ["a missing password", { email: "x@example.test" }],
    ["an address without @", { email: "not-an-email", password: "quiet-harbour-1987" }],
    ["an address over 254 characters", { email: `${"a".repeat(250)}@example.test`, password: "quiet-harbour-1987" }],
    ["a non-string email", { email: 42, password: "quiet-harbour-1987" }],
    ["a non-string password", { email: "x@example.test", password: ["quiet-harbour-1987"] }],
    ["an empty password", { email: "x@example.test", password: "" }],
    ["a password over the byte bound", { email: "x@example.test", password: "p".repeat(1025) }],
    ["a blank display name", { email: "x@example.test", password: "quiet-harbour-1987", displayName: "   " }],
    ["a display name over 100 characters", { email: "x@example.test", password: "quiet-harbour-1987", displayName: "d".repeat(101) }],
    ["a JSON array", ["x@example.test", "quiet-harbour-1987"]],
    ["JSON null", null],
  ])("answers 400 invalid_request for %s", async (_, body) => {
    const response = await register(body);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe("invalid_request");
    expect(sessionCookies(response.headers)).toHaveLength(0);
  });

  it("ignores a role in the body: self-registration is always role user", async () => {
    const response = await register({ email: uniqueEmail(), password: strongPassword(), role: "admin" });
    expect(response.status).toBe(201);
    expect(response.body.user.role).toBe("user");
    expect(decodePayload(response.body.accessToken).role).toBe("user");
    expect((await findUser(response.body.user.email))?.role).toBe("user");
  });

  it("creates no account when the password is refused", async () => {
    const email = uniqueEmail();
    const response = await register({ email, password: "short" });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe("weak_password");
    expect(await findUser(email)).toBeNull();
  });
});

describe("POST /api/auth/register: password rules", HASHING_HEAVY, () => {
  const attempt = (password: string, email = uniqueEmail()) => register({ email, password });

  it("refuses 7 characters and accepts 8", async () => {
    const seven = await attempt("kq7#vz2");
    expect(seven.status).toBe(400);
    expect(seven.body.error.code).toBe("weak_password");
    expect((await attempt("kq7#vz2m")).status).toBe(201);
  });

  it("counts code points, not UTF-16 units: seven emoji are too short, eight are enough", async () => {
    const seven = await attempt("🦊🌵🛰🎻🧭🪐🦉");
    expect("🦊🌵🛰🎻🧭🪐🦉".length).toBe(14);
    expect(seven.status).toBe(400);
    expect(seven.body.error.code).toBe("weak_password");
    expect((await attempt("🦊🌵🛰🎻🧭🪐🦉🍋")).status).toBe(201);
  });

  it("accepts 64, 100 and 256 characters and refuses 257", async () => {
    const of = (length: number) => Array.from({ length }, (_, i) => "vq3x9kzt"[i % 8]).join("");
    expect((await attempt(of(64))).status).toBe(201);
    expect((await attempt(of(100))).status).toBe(201);
    expect((await attempt(of(256))).status).toBe(201);
    const tooLong = await attempt(of(257));
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error.code).toBe("weak_password");
  });

  it.each(["password", "password1", "qwertyuiop", "iloveyou", "PassWord1", "Trustno1"])(
    "refuses the common password %s, whatever its case",
    async (password) => {
      const response = await attempt(password);
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe("weak_password");
    },
  );

  it("refuses a password built from the email's local part", async () => {
    const local = `zebedee${crypto.randomUUID().slice(0, 6)}`;
    const response = await attempt(`${local.toUpperCase()}!2024`, `${local}@example.test`);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe("weak_password");
    expect(response.body.error.message).toMatch(/email|service/i);
  });

  it("refuses a password built from the service name", async () => {
    for (const password of ["my-heady-pass-99", "HeadyKey2026!!"]) {
      const response = await attempt(password);
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe("weak_password");
    }
  });
});

describe("POST /api/auth/register: rate limit", HASHING_HEAVY, () => {
  it(`allows ${REGISTER_PER_IP.limit} attempts per IP and then answers 429 with Retry-After`, async () => {
    const ip = randomIp();
    // Weak passwords keep each attempt cheap: the limit is counted before the password is checked.
    for (let i = 0; i < REGISTER_PER_IP.limit; i++) {
      expect((await register({ email: uniqueEmail(), password: "short" }, ip)).status).toBe(400);
    }
    const limited = await register({ email: uniqueEmail(), password: strongPassword() }, ip);
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe("rate_limited");
    const retryAfter = Number(limited.headers.get("Retry-After"));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(REGISTER_PER_IP.windowSeconds);
    // Another address is unaffected.
    expect((await register({ email: uniqueEmail(), password: strongPassword() }, randomIp())).status).toBe(201);
  });
});
