import { describe, expect, it } from "vitest";
import { HASHING_HEAVY, login, refresh, registerUser, sessionIdOf } from "../support/accounts";
import { auditEvents } from "../support/audit";
import { request } from "../support/worker";

const list = (accessToken: string) => request("GET", "/api/auth/sessions", { token: accessToken });
const revokeOne = (accessToken: string, id: string) => request("DELETE", `/api/auth/sessions/${id}`, { token: accessToken });
const revokeOthers = (accessToken: string) => request("POST", "/api/auth/sessions/revoke-others", { token: accessToken });

describe("GET /api/auth/sessions", () => {
  it(
    "lists the live sessions newest first, with created, last seen, user agent and the address's network only",
    HASHING_HEAVY,
    async () => {
      const account = await registerUser({ ip: "203.0.113.77" });
      const phone = await login(account.email, account.password, {
        ip: "2001:db8:abcd:12::1",
        headers: { "User-Agent": "HeadyPhone/1.0" },
      });
      const response = await list(phone.accessToken);
      expect(response.status).toBe(200);
      const [newest, oldest] = response.body.sessions;
      expect(response.body.sessions).toHaveLength(2);
      expect(newest).toMatchObject({ id: sessionIdOf(phone), current: true, userAgent: "HeadyPhone/1.0", ipPrefix: "2001:db8:abcd::/48" });
      expect(oldest).toMatchObject({ id: sessionIdOf(account), current: false, ipPrefix: "203.0.113.0/24" });
      expect(Date.parse(newest.createdAt)).toBeGreaterThanOrEqual(Date.parse(oldest.createdAt));
      expect(Date.parse(newest.lastSeenAt)).toBe(Date.parse(newest.createdAt));
      expect(response.text).not.toContain("203.0.113.77");
    },
  );

  it("last seen moves with a token refresh", async () => {
    const account = await registerUser();
    const before = (await list(account.accessToken)).body.sessions[0].lastSeenAt;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await refresh(account.refreshToken)).status).toBe(200);
    const after = (await list(account.accessToken)).body.sessions[0].lastSeenAt;
    expect(Date.parse(after)).toBeGreaterThan(Date.parse(before));
  });

  it("shows only the caller's own sessions, and no ended ones", HASHING_HEAVY, async () => {
    const account = await registerUser();
    const stranger = await registerUser();
    const ended = await login(account.email, account.password);
    expect((await request("POST", "/api/auth/logout", { token: ended.accessToken })).status).toBe(204);
    const ids = (await list(account.accessToken)).body.sessions.map((session: { id: string }) => session.id);
    expect(ids).toEqual([sessionIdOf(account)]);
    expect(ids).not.toContain(sessionIdOf(stranger));
  });

  it("needs a session", async () => {
    expect((await request("GET", "/api/auth/sessions")).status).toBe(401);
  });
});

describe("ending sessions", () => {
  it("DELETE ends one session, its refresh family and its access tokens; audited", HASHING_HEAVY, async () => {
    const account = await registerUser();
    const other = await login(account.email, account.password);
    expect((await revokeOne(account.accessToken, sessionIdOf(other))).status).toBe(204);
    expect((await request("GET", "/api/auth/me", { token: other.accessToken })).status).toBe(401);
    expect((await refresh(other.refreshToken)).status).toBe(401);
    expect((await request("GET", "/api/auth/me", { token: account.accessToken })).status).toBe(200);
    const [event] = await auditEvents({ subject: account.userId, type: "session.revoked" });
    expect(event!.details).toEqual({ sessionId: sessionIdOf(other) });
  });

  it("another account's session is 404 and stays live", async () => {
    const account = await registerUser();
    const stranger = await registerUser();
    const response = await revokeOne(account.accessToken, sessionIdOf(stranger));
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe("not_found");
    expect((await request("GET", "/api/auth/me", { token: stranger.accessToken })).status).toBe(200);
  });

  it("a malformed id is a 400 envelope", async () => {
    const account = await registerUser();
    const response = await revokeOne(account.accessToken, "not-a-uuid");
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe("invalid_request");
  });

  it("ending the current session clears its cookie", async () => {
    const account = await registerUser();
    const response = await revokeOne(account.accessToken, sessionIdOf(account));
    expect(response.status).toBe(204);
    expect(response.headers.getSetCookie().some((cookie) => cookie.startsWith("__Host-heady_session=;"))).toBe(true);
    expect((await request("GET", "/api/auth/me", { token: account.accessToken })).status).toBe(401);
  });

  it("revoke-others ends every session but the caller's", HASHING_HEAVY, async () => {
    const account = await registerUser();
    const others = [await login(account.email, account.password), await login(account.email, account.password)];
    const response = await revokeOthers(account.accessToken);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ revoked: 2 });
    for (const other of others) expect((await refresh(other.refreshToken)).status).toBe(401);
    expect((await list(account.accessToken)).body.sessions).toHaveLength(1);
    expect(await auditEvents({ subject: account.userId, type: "session.revoked_others" })).toHaveLength(1);
  });

  it("an API key can neither list nor end sessions", async () => {
    const account = await registerUser();
    const key = await request("POST", "/api/auth/api-keys", { token: account.accessToken, body: { description: "ci" } });
    const headers = { "X-API-Key": key.body.key };
    expect((await request("GET", "/api/auth/sessions", { headers })).status).toBe(403);
    expect((await request("POST", "/api/auth/sessions/revoke-others", { headers })).status).toBe(403);
  });
});
