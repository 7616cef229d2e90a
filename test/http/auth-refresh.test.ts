import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { REFRESH_PER_IP } from "../../src/rate-limit/limits";
import { HASHING_HEAVY, login, refresh, registerUser, sessionIdOf, updateUser } from "../support/accounts";
import { auditEvents } from "../support/audit";
import { testConfig } from "../support/config";
import { randomIp } from "../support/fresh";
import { decodePayload, verifyToken } from "../support/tokens";
import { request } from "../support/worker";

const neverIssued = () => [...crypto.getRandomValues(new Uint8Array(34))].map((byte) => byte.toString(16).padStart(2, "0")).join("");

function expectRefused(response: { status: number; body: any }) {
  expect(response.status).toBe(401);
  expect(response.body.error.code).toBe("invalid_refresh_token");
}

describe("POST /api/auth/refresh: rotation", () => {
  it("answers a new access and refresh token for the same session", async () => {
    const session = await registerUser();
    const response = await refresh(session.refreshToken);
    expect(response.status).toBe(200);
    expect(Object.keys(response.body).sort()).toEqual(["accessToken", "expiresIn", "refreshToken"]);
    expect(response.body.refreshToken).toMatch(/^[0-9a-f]{68}$/);
    expect(response.body.refreshToken).not.toBe(session.refreshToken);
    expect(response.body.expiresIn).toBe(testConfig().accessTokenTtlSeconds);
    const claims = decodePayload(response.body.accessToken);
    expect(claims).toMatchObject({ sub: session.userId, sid: sessionIdOf(session), role: "user", email: session.email });
    expect(claims.jti).not.toBe(decodePayload(session.accessToken).jti);
    expect((await verifyToken(response.body.accessToken)).status).toBe(200);
    // Rotation does not end the session, so the earlier access token still stands.
    expect((await verifyToken(session.accessToken)).status).toBe(200);
  });

  it("each successor rotates in turn, and the chain is recorded in storage", async () => {
    const session = await registerUser();
    let token = session.refreshToken;
    for (let i = 0; i < 3; i++) {
      const response = await refresh(token);
      expect(response.status).toBe(200);
      token = response.body.refreshToken;
    }
    const { results } = await env.DB.prepare(
      "SELECT id, parent_id AS parentId, replaced_by AS replacedBy, used_at AS usedAt, expires_at AS expiresAt FROM refresh_tokens WHERE family_id = ? ORDER BY created_at, rowid",
    )
      .bind(sessionIdOf(session))
      .all<{ id: string; parentId: string | null; replacedBy: string | null; usedAt: number | null; expiresAt: number }>();
    expect(results).toHaveLength(4);
    expect(results[0]?.parentId).toBeNull();
    for (let i = 1; i < results.length; i++) {
      expect(results[i]?.parentId).toBe(results[i - 1]?.id);
      expect(results[i - 1]?.replacedBy).toBe(results[i]?.id);
      expect(results[i - 1]?.usedAt).not.toBeNull();
    }
    expect(results[3]?.usedAt).toBeNull();
    // Rotation never extends the family's absolute lifetime.
    expect(new Set(results.map((row) => row.expiresAt)).size).toBe(1);
  });

  it("puts the account's current role in the new access token", async () => {
    const session = await registerUser();
    await updateUser(session.userId, { role: "operator" });
    const response = await refresh(session.refreshToken);
    expect(decodePayload(response.body.accessToken).role).toBe("operator");
  });

  it("records token.refreshed", async () => {
    const session = await registerUser();
    const ip = randomIp();
    const response = await refresh(session.refreshToken, { ip });
    const events = await auditEvents({ subject: session.userId, type: "token.refreshed" });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ ip, request_id: response.headers.get("X-Request-Id"), details: { sessionId: sessionIdOf(session) } });
  });
});

describe("POST /api/auth/refresh: reuse detection", HASHING_HEAVY, () => {
  it("a rotated token presented again revokes the whole family and the session", async () => {
    const session = await registerUser();
    const rotated = await refresh(session.refreshToken);
    expect(rotated.status).toBe(200);

    expectRefused(await refresh(session.refreshToken));

    expectRefused(await refresh(rotated.body.refreshToken));
    expect((await verifyToken(rotated.body.accessToken)).status).toBe(401);
    expect((await verifyToken(session.accessToken)).status).toBe(401);
    expect((await request("GET", "/api/auth/me", { cookie: session.cookie })).status).toBe(401);

    const revoked = await env.DB.prepare("SELECT count(*) AS n FROM refresh_tokens WHERE family_id = ? AND revoked_at IS NULL")
      .bind(sessionIdOf(session))
      .first<{ n: number }>();
    expect(revoked?.n).toBe(0);
    const events = await auditEvents({ subject: session.userId, type: "refresh.reuse_detected" });
    expect(events).toHaveLength(1);
    expect(events[0]?.details).toEqual({ sessionId: sessionIdOf(session) });
  });

  it("reuse ends only that family: the account's other sessions keep working", async () => {
    const first = await registerUser();
    const second = await login(first.email, first.password);
    await refresh(first.refreshToken);
    expectRefused(await refresh(first.refreshToken));
    expect((await verifyToken(second.accessToken)).status).toBe(200);
    expect((await refresh(second.refreshToken)).status).toBe(200);
  });

  it("of ten concurrent refreshes with one token, exactly one succeeds", async () => {
    const session = await registerUser();
    const responses = await Promise.all(Array.from({ length: 10 }, () => refresh(session.refreshToken)));
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(1);
    expect(statuses.filter((status) => status === 401)).toHaveLength(9);
    for (const response of responses.filter((candidate) => candidate.status === 401)) expectRefused(response);
    const successors = await env.DB.prepare("SELECT count(*) AS n FROM refresh_tokens WHERE parent_id IS NOT NULL AND family_id = ?")
      .bind(sessionIdOf(session))
      .first<{ n: number }>();
    expect(successors?.n).toBe(1);
  });

  it("the losers of a concurrent refresh count as reuse, so the family ends (clients must serialise refreshes)", async () => {
    const session = await registerUser();
    const responses = await Promise.all(Array.from({ length: 4 }, () => refresh(session.refreshToken)));
    const winner = responses.find((response) => response.status === 200);
    expect(winner).toBeDefined();
    expect(await auditEvents({ subject: session.userId, type: "refresh.reuse_detected" }, { atLeast: 3 })).toHaveLength(3);
    // The documented consequence of RFC 9700 reuse detection without a grace period:
    // even the winning pair belongs to the revoked family.
    expectRefused(await refresh(winner!.body.refreshToken));
    expect((await verifyToken(winner!.body.accessToken)).status).toBe(401);
  });
});

describe("POST /api/auth/refresh: refusals", HASHING_HEAVY, () => {
  it("a well-formed token that was never issued is refused and audited as refresh.failed", async () => {
    const ip = randomIp();
    const response = await refresh(neverIssued(), { ip });
    expectRefused(response);
    expect(await auditEvents({ ip, type: "refresh.failed" })).toHaveLength(1);
  });

  it.each([
    ["too short", (token: string) => token.slice(0, 66)],
    ["too long", (token: string) => `${token}00`],
    ["upper-case hex", (token: string) => token.toUpperCase()],
    ["not hex", (token: string) => `${token.slice(0, 67)}g`],
    ["with whitespace", (token: string) => ` ${token.slice(1)}`],
  ])("refuses a token that is %s", async (_, mangle) => {
    const session = await registerUser();
    expectRefused(await refresh(mangle(session.refreshToken)));
    // The mangled attempt is not reuse: the real token still rotates.
    expect((await refresh(session.refreshToken)).status).toBe(200);
  });

  it.each([
    ["an empty token", { refreshToken: "" }],
    ["a missing token", {}],
    ["a numeric token", { refreshToken: 1234 }],
    ["a token over 256 characters", { refreshToken: "a".repeat(257) }],
  ])("answers 400 invalid_request for %s", async (_, body) => {
    const response = await request("POST", "/api/auth/refresh", { body });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe("invalid_request");
  });

  it("refuses a token after logout", async () => {
    const session = await registerUser();
    expect((await request("POST", "/api/auth/logout", { token: session.accessToken })).status).toBe(204);
    expectRefused(await refresh(session.refreshToken));
  });

  it("refuses a token past its absolute lifetime", async () => {
    const session = await registerUser();
    await env.DB.prepare("UPDATE refresh_tokens SET expires_at = ? WHERE family_id = ?")
      .bind(Date.now() - 1000, sessionIdOf(session))
      .run();
    expectRefused(await refresh(session.refreshToken));
  });

  it("refuses a token whose session has expired", async () => {
    const session = await registerUser();
    await env.DB.prepare("UPDATE sessions SET expires_at = ? WHERE id = ?")
      .bind(Date.now() - 1000, sessionIdOf(session))
      .run();
    expectRefused(await refresh(session.refreshToken));
  });

  it("refuses a token of a disabled account", async () => {
    const session = await registerUser();
    await updateUser(session.userId, { disabled_at: Date.now() });
    expectRefused(await refresh(session.refreshToken));
  });

  it("does not accept an access token or the cookie value as a refresh token", async () => {
    const session = await registerUser();
    expect((await refresh(session.accessToken)).status).toBe(400);
    expectRefused(await refresh(session.cookie));
    expect((await refresh(session.refreshToken)).status).toBe(200);
  });

  it(`limits one address to ${REFRESH_PER_IP.limit} refreshes per window`, async () => {
    const ip = randomIp();
    const statuses = [];
    for (let i = 0; i < REFRESH_PER_IP.limit; i++) statuses.push((await refresh(neverIssued(), { ip })).status);
    expect(statuses.every((status) => status === 401)).toBe(true);
    const limited = await refresh(neverIssued(), { ip });
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe("rate_limited");
    expect(Number(limited.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(Number(limited.headers.get("Retry-After"))).toBeLessThanOrEqual(REFRESH_PER_IP.windowSeconds);
  });
});
