import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { login, refresh, registerUser, sessionIdOf } from "../support/accounts";
import { auditEvents } from "../support/audit";
import { BASE_URL } from "../support/config";
import { SESSION_COOKIE, sessionCookie, sessionCookies } from "../support/cookies";
import { randomIp } from "../support/fresh";
import { verifyToken } from "../support/tokens";
import { request } from "../support/worker";

const me = (options: { token?: string; cookie?: string; headers?: Record<string, string> }) => request("GET", "/api/auth/me", options);
// A browser sends its Origin with every POST; a cookie change without ours is refused (test/http/cors.test.ts).
const logout = (options: { token?: string; cookie?: string; ip?: string }) =>
  request("POST", "/api/auth/logout", { ...options, headers: { Origin: BASE_URL } });

describe("session cookie", () => {
  it.each(["register", "login"] as const)("after %s it is __Host-, HttpOnly, Secure, SameSite=Strict, Path=/, 8 hours", async (flow) => {
    const account = await registerUser();
    const response = flow === "register" ? account.response : (await login(account.email, account.password)).response;
    const cookie = sessionCookie(response.headers);
    expect(cookie.name).toBe("__Host-heady_session");
    expect(cookie.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(cookie.attributes.has("httponly")).toBe(true);
    expect(cookie.attributes.has("secure")).toBe(true);
    expect(cookie.attributes.get("samesite")).toBe("Strict");
    expect(cookie.attributes.get("path")).toBe("/");
    expect(cookie.attributes.get("max-age")).toBe("28800");
    // __Host- forbids Domain; none is set, so the cookie stays on this exact host.
    expect(cookie.attributes.has("domain")).toBe(false);
  });

  it("carries a new value on every login", async () => {
    const account = await registerUser();
    const values = [account.cookie];
    for (let i = 0; i < 3; i++) values.push((await login(account.email, account.password)).cookie);
    expect(new Set(values).size).toBe(values.length);
  });

  it("is only honoured under its exact name", async () => {
    const account = await registerUser();
    const renamed = await me({ headers: { Cookie: `heady_session=${account.cookie}` } });
    expect(renamed.status).toBe(401);
    const secured = await me({ headers: { Cookie: `__Secure-heady_session=${account.cookie}` } });
    expect(secured.status).toBe(401);
    expect((await me({ headers: { Cookie: `theme=dark; ${SESSION_COOKIE}=${account.cookie}` } })).status).toBe(200);
  });

  it("stops working after its 8 hours even while the session itself stands", async () => {
    const account = await registerUser();
    await env.DB.prepare("UPDATE sessions SET cookie_expires_at = ? WHERE id = ?")
      .bind(Date.now() - 1000, sessionIdOf(account))
      .run();
    const expired = await me({ cookie: account.cookie });
    expect(expired.status).toBe(401);
    expect(expired.body.error.code).toBe("unauthorized");
    expect((await me({ token: account.accessToken })).status).toBe(200);
  });

  it("an unknown or garbled cookie value is 401, never 500", async () => {
    for (const value of ["not-a-session", "%E0%A4%A", "a".repeat(4000), '"quoted"']) {
      const response = await me({ headers: { Cookie: `${SESSION_COOKIE}=${value}` } });
      expect(response.status).toBe(401);
      expect(response.body.error.code).toBe("unauthorized");
    }
  });
});

describe("GET /api/auth/me", () => {
  it("returns the caller's profile for a bearer token, and nothing secret", async () => {
    const account = await registerUser({ displayName: "Mae" });
    const response = await me({ token: account.accessToken });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      id: account.userId,
      email: account.email,
      role: "user",
      displayName: "Mae",
      emailVerified: false,
      createdAt: account.response.body.user.createdAt,
    });
    expect(response.text).not.toMatch(/pbkdf2|password|disabled/i);
  });

  it("returns the same profile for the session cookie", async () => {
    const account = await registerUser();
    expect((await me({ cookie: account.cookie })).body).toEqual((await me({ token: account.accessToken })).body);
  });

  it("answers 401 with WWW-Authenticate when no credential is sent", async () => {
    const response = await me({});
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe("unauthorized");
    expect(response.headers.get("WWW-Authenticate")).toMatch(/^Bearer realm="heady"/);
  });

  it.each([
    ["a Basic scheme", "Basic dXNlcjpwYXNz"],
    ["an empty Bearer", "Bearer "],
    ["Bearer without a space", "Bearertoken"],
    ["two tokens", "Bearer a.b.c d.e.f"],
    ["a random string", "Bearer not-a-jwt"],
  ])("answers 401 invalid_token for %s", async (_, authorization) => {
    const response = await me({ headers: { Authorization: authorization } });
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe("invalid_token");
    expect(response.headers.get("WWW-Authenticate")).toBe('Bearer error="invalid_token"');
  });

  it("a bad bearer token never falls back to a valid cookie", async () => {
    const account = await registerUser();
    const response = await me({ token: `${account.accessToken}x`, cookie: account.cookie });
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe("invalid_token");
  });

  it("a valid bearer wins over another account's cookie", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    expect((await me({ token: alice.accessToken, cookie: bob.cookie })).body.id).toBe(alice.userId);
  });

  it("answers 401 once the session has passed its absolute lifetime", async () => {
    const account = await registerUser();
    await env.DB.prepare("UPDATE sessions SET expires_at = ? WHERE id = ?")
      .bind(Date.now() - 1000, sessionIdOf(account))
      .run();
    expect((await me({ token: account.accessToken })).status).toBe(401);
    expect((await me({ cookie: account.cookie })).status).toBe(401);
  });
});

describe("POST /api/auth/logout", () => {
  it("with a bearer token: 204, clears the cookie, and revokes access token, refresh token and cookie", async () => {
    const account = await registerUser();
    const response = await logout({ token: account.accessToken });
    expect(response.status).toBe(204);
    expect(response.text).toBe("");
    const cleared = sessionCookie(response.headers);
    expect(cleared.value).toBe("");
    expect(cleared.attributes.get("max-age")).toBe("0");
    expect(cleared.attributes.get("path")).toBe("/");
    expect(cleared.attributes.has("secure")).toBe(true);
    expect(cleared.attributes.has("httponly")).toBe(true);

    expect((await me({ token: account.accessToken })).status).toBe(401);
    expect((await me({ cookie: account.cookie })).status).toBe(401);
    const refreshed = await refresh(account.refreshToken);
    expect(refreshed.status).toBe(401);
    expect(refreshed.body.error.code).toBe("invalid_refresh_token");
  });

  it("with the cookie alone: ends the session, including its access tokens", async () => {
    const account = await registerUser();
    expect((await logout({ cookie: account.cookie })).status).toBe(204);
    expect((await verifyToken(account.accessToken)).status).toBe(401);
    expect((await refresh(account.refreshToken)).status).toBe(401);
  });

  it("also kills access tokens issued by refresh for the same session", async () => {
    const account = await registerUser();
    const rotated = await refresh(account.refreshToken);
    expect((await logout({ token: account.accessToken })).status).toBe(204);
    expect((await verifyToken(rotated.body.accessToken)).status).toBe(401);
    expect((await refresh(rotated.body.refreshToken)).status).toBe(401);
  });

  it("ends only the session it is called with", async () => {
    const account = await registerUser();
    const other = await login(account.email, account.password);
    expect((await logout({ token: account.accessToken })).status).toBe(204);
    expect((await me({ token: other.accessToken })).status).toBe(200);
    expect((await me({ cookie: other.cookie })).status).toBe(200);
    expect((await refresh(other.refreshToken)).status).toBe(200);
  });

  it("records a logout audit event for the session", async () => {
    const account = await registerUser();
    const ip = randomIp();
    const response = await logout({ token: account.accessToken, ip });
    const events = await auditEvents({ subject: account.userId, type: "logout" });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ ip, request_id: response.headers.get("X-Request-Id"), details: { sessionId: sessionIdOf(account) } });
  });

  it("needs a credential, and a second logout with the same token is 401", async () => {
    const anonymous = await logout({});
    expect(anonymous.status).toBe(401);
    expect(sessionCookies(anonymous.headers)).toHaveLength(0);
    const account = await registerUser();
    expect((await logout({ token: account.accessToken })).status).toBe(204);
    const again = await logout({ token: account.accessToken });
    expect(again.status).toBe(401);
    expect(again.body.error.code).toBe("invalid_token");
  });

  it("is POST only", async () => {
    const account = await registerUser();
    const wrongMethod = await request("GET", "/api/auth/logout", { token: account.accessToken });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("Allow")).toBe("POST, OPTIONS");
    expect((await me({ token: account.accessToken })).status).toBe(200);
  });
});
