import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { clearRevocableStateForTests } from "../../src/credentials/revocable-state";
import type { Bindings } from "../../src/env";
import { HASHING_HEAVY, login, registerUser, type SignedIn, sessionIdOf, updateUser, userWithRole } from "../support/accounts";
import { BASE_URL } from "../support/config";
import { strongPassword } from "../support/fresh";
import { mailedToken, RESET_SUBJECT } from "../support/mail";
import { appWith, request } from "../support/worker";

/**
 * Verification at the edge without a central read (REVOCATION_MAX_STALENESS_SECONDS): the state
 * behind access tokens, session cookies and API keys is cached per isolate for at most the bound.
 * "Another isolate revoked it" is simulated by writing D1 directly, which this isolate cannot see
 * except by reading D1 again; a revocation through a route in this isolate is seen at once.
 *
 * Each test runs the app against its own bindings object (so its own bound), with D1 wrapped to count
 * the statements the app prepares, replica sessions included.
 */

interface CountingBindings {
  bindings: Bindings;
  reads: () => number;
}

/** Counts every statement D1 executes (prepared once and bound many times, as drizzle's prepared queries are). */
function countingStatement(statement: D1PreparedStatement, count: () => void): D1PreparedStatement {
  return new Proxy(statement, {
    get(target, property) {
      if (property === "bind") return (...values: unknown[]) => countingStatement(target.bind(...values), count);
      const value = Reflect.get(target, property);
      if (typeof value !== "function") return value;
      if (property === "all" || property === "raw" || property === "first" || property === "run") count();
      return value.bind(target);
    },
  });
}

function countingD1(d1: D1Database, count: () => void): D1Database {
  return new Proxy(d1, {
    get(target, property) {
      if (property === "prepare") return (query: string) => countingStatement(target.prepare(query), count);
      if (property === "withSession")
        return (constraint?: string) => countingD1(target.withSession(constraint) as unknown as D1Database, count);
      if (property === "batch") {
        return (statements: D1PreparedStatement[]) => {
          count();
          return target.batch(statements);
        };
      }
      const value = Reflect.get(target, property);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

function bindingsWithBound(seconds: number): CountingBindings {
  let prepared = 0;
  const bindings = { ...env, DB: countingD1(env.DB, () => prepared++), REVOCATION_MAX_STALENESS_SECONDS: String(seconds) } as Bindings;
  return { bindings, reads: () => prepared };
}

const app = createApp();

/** One request to `app` with `bindings`; its background refreshes (waitUntil) finish before the next step, as they would between requests. */
const call = (bindings: Bindings, method: string, path: string, headers: Record<string, string>, body?: unknown) =>
  request(method, path, { headers, body, handler: appWith(bindings, app) });

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Revokes a session the way another isolate would: in D1, unseen by this one. */
async function revokeElsewhere(session: SignedIn) {
  await env.DB.prepare("UPDATE sessions SET revoked_at = ? WHERE id = ?").bind(Date.now(), sessionIdOf(session)).run();
}

async function createKey(bindings: Bindings, owner: SignedIn): Promise<{ id: string; key: string }> {
  const created = await call(bindings, "POST", "/api/auth/api-keys", bearer(owner.accessToken), { description: "edge" });
  expect(created.status).toBe(201);
  return created.body;
}

let user: SignedIn;
beforeEach(async () => {
  // Every test starts as a fresh isolate would, and with a fresh account.
  clearRevocableStateForTests();
  user = await registerUser();
}, HASHING_HEAVY.timeout);

describe("verification within REVOCATION_MAX_STALENESS_SECONDS", () => {
  it("a warm access token is verified with no D1 read at all", async () => {
    const { bindings, reads } = bindingsWithBound(30);
    // Cold: one read, from a replica; the next use has the primary confirm it, in the background.
    expect((await call(bindings, "GET", "/api/auth/verify", bearer(user.accessToken))).status).toBe(200);
    expect(reads()).toBe(1);
    expect((await call(bindings, "GET", "/api/auth/verify", bearer(user.accessToken))).status).toBe(200);
    expect(reads()).toBe(2);
    for (let i = 0; i < 5; i++) expect((await call(bindings, "GET", "/api/auth/verify", bearer(user.accessToken))).status).toBe(200);
    expect(reads()).toBe(2);
  });

  it("strict mode (0) reads D1 on every request, and a revocation elsewhere applies at once", async () => {
    const { bindings, reads } = bindingsWithBound(0);
    for (let i = 1; i <= 3; i++) {
      const before = reads();
      expect((await call(bindings, "GET", "/api/auth/verify", bearer(user.accessToken))).status).toBe(200);
      expect(reads()).toBeGreaterThan(before);
    }
    await revokeElsewhere(user);
    expect((await call(bindings, "GET", "/api/auth/verify", bearer(user.accessToken))).status).toBe(401);
  });

  it("a session revoked elsewhere is still accepted inside the bound and refused once it has passed", async () => {
    const { bindings } = bindingsWithBound(1);
    expect((await call(bindings, "GET", "/api/auth/verify", bearer(user.accessToken))).status).toBe(200);
    await revokeElsewhere(user);
    const revokedAt = Date.now();
    // The replica's first answer is dated half a bound early, so the primary confirms it by then.
    let refusedAt: number | undefined;
    while (refusedAt === undefined && Date.now() - revokedAt < 5_000) {
      if ((await call(bindings, "GET", "/api/auth/verify", bearer(user.accessToken))).status === 401) refusedAt = Date.now();
      else await sleep(50);
    }
    expect(refusedAt).toBeDefined();
    expect(refusedAt! - revokedAt).toBeLessThanOrEqual(1_000 + 250);
  });

  it("an API key revoked elsewhere is refused once the bound has passed, and a disabled owner's key too", async () => {
    const { bindings } = bindingsWithBound(1);
    const { id, key } = await createKey(bindings, user);
    expect((await call(bindings, "GET", "/api/auth/verify", { "X-API-Key": key })).status).toBe(200);
    await env.DB.prepare("UPDATE api_keys SET revoked_at = ? WHERE id = ?").bind(Date.now(), id).run();
    expect((await call(bindings, "GET", "/api/auth/verify", { "X-API-Key": key })).status).toBe(200);
    await sleep(1_100);
    expect((await call(bindings, "GET", "/api/auth/verify", { "X-API-Key": key })).status).toBe(401);

    const second = await createKey(bindings, user);
    expect((await call(bindings, "GET", "/api/auth/verify", { "X-API-Key": second.key })).status).toBe(200);
    await updateUser(user.userId, { disabled_at: Date.now() });
    await sleep(1_100);
    expect((await call(bindings, "GET", "/api/auth/verify", { "X-API-Key": second.key })).status).toBe(401);
  });

  it("routes that change state read D1: a session revoked elsewhere cannot create a key, even inside the bound", async () => {
    const { bindings } = bindingsWithBound(30);
    expect((await call(bindings, "GET", "/api/auth/verify", bearer(user.accessToken))).status).toBe(200);
    await revokeElsewhere(user);
    expect((await call(bindings, "GET", "/api/auth/verify", bearer(user.accessToken))).status).toBe(200);
    expect((await call(bindings, "POST", "/api/auth/api-keys", bearer(user.accessToken), { name: "late" })).status).toBe(401);
    expect(
      (await call(bindings, "POST", "/api/auth/request-pqc-token", bearer(user.accessToken), { service: "headyme", operation: "sync" }))
        .status,
    ).toBe(401);
  });
});

describe("a revocation in this isolate applies at once, whatever the bound", () => {
  it("logout", async () => {
    const { bindings } = bindingsWithBound(30);
    expect((await call(bindings, "GET", "/api/auth/verify", bearer(user.accessToken))).status).toBe(200);
    expect((await call(bindings, "POST", "/api/auth/logout", bearer(user.accessToken))).status).toBe(204);
    expect((await call(bindings, "GET", "/api/auth/verify", bearer(user.accessToken))).status).toBe(401);
  });

  it("the session cookie, after logout with it", async () => {
    const { bindings } = bindingsWithBound(30);
    const cookie = { Cookie: `__Host-heady_session=${user.cookie}` };
    expect((await call(bindings, "GET", "/api/auth/verify", cookie)).status).toBe(200);
    expect((await call(bindings, "POST", "/api/auth/logout", { ...cookie, Origin: BASE_URL })).status).toBe(204);
    expect((await call(bindings, "GET", "/api/auth/verify", cookie)).status).toBe(401);
  });

  it("refresh-token reuse ends the session's access tokens", async () => {
    const { bindings } = bindingsWithBound(30);
    expect((await call(bindings, "GET", "/api/auth/verify", bearer(user.accessToken))).status).toBe(200);
    expect((await call(bindings, "POST", "/api/auth/refresh", {}, { refreshToken: user.refreshToken })).status).toBe(200);
    expect((await call(bindings, "POST", "/api/auth/refresh", {}, { refreshToken: user.refreshToken })).status).toBe(401);
    expect((await call(bindings, "GET", "/api/auth/verify", bearer(user.accessToken))).status).toBe(401);
  });

  it("revoking an API key", async () => {
    const { bindings } = bindingsWithBound(30);
    const { id, key } = await createKey(bindings, user);
    expect((await call(bindings, "GET", "/api/auth/verify", { "X-API-Key": key })).status).toBe(200);
    expect((await call(bindings, "DELETE", `/api/auth/api-keys/${id}`, bearer(user.accessToken))).status).toBe(204);
    expect((await call(bindings, "GET", "/api/auth/verify", { "X-API-Key": key })).status).toBe(401);
  });

  it(
    "disabling the account, and demoting it, through the admin routes",
    async () => {
      const { bindings } = bindingsWithBound(30);
      const admin = await userWithRole("admin");
      const fresh = await userWithRole("operator");
      expect((await call(bindings, "GET", "/api/auth/verify", bearer(fresh.accessToken))).body.role).toBe("operator");
      expect(
        (await call(bindings, "PUT", `/api/admin/users/${fresh.userId}/role`, bearer(admin.accessToken), { role: "user" })).status,
      ).toBe(200);
      expect((await call(bindings, "GET", "/api/auth/verify", bearer(fresh.accessToken))).body.role).toBe("user");

      const { key } = await createKey(bindings, user);
      expect((await call(bindings, "GET", "/api/auth/verify", { "X-API-Key": key })).status).toBe(200);
      expect((await call(bindings, "GET", "/api/auth/verify", bearer(user.accessToken))).status).toBe(200);
      expect((await call(bindings, "POST", `/api/admin/users/${user.userId}/disable`, bearer(admin.accessToken))).status).toBe(200);
      expect((await call(bindings, "GET", "/api/auth/verify", bearer(user.accessToken))).status).toBe(401);
      expect((await call(bindings, "GET", "/api/auth/verify", { "X-API-Key": key })).status).toBe(401);
    },
    HASHING_HEAVY.timeout,
  );
});

describe("account security revocations in this isolate apply at once, whatever the bound", () => {
  it("a password reset ends every session of the account", HASHING_HEAVY, async () => {
    const { bindings } = bindingsWithBound(30);
    expect((await call(bindings, "GET", "/api/auth/verify", bearer(user.accessToken))).status).toBe(200);
    expect((await call(bindings, "POST", "/api/auth/password/forgot", {}, { email: user.email })).status).toBe(202);
    const token = await mailedToken(user.email, RESET_SUBJECT);
    expect((await call(bindings, "POST", "/api/auth/password/reset", {}, { token, password: strongPassword() })).status).toBe(204);
    expect((await call(bindings, "GET", "/api/auth/verify", bearer(user.accessToken))).status).toBe(401);
  });

  it("a password change ends the other sessions", HASHING_HEAVY, async () => {
    const { bindings } = bindingsWithBound(30);
    const other = await login(user.email, user.password);
    expect((await call(bindings, "GET", "/api/auth/verify", bearer(other.accessToken))).status).toBe(200);
    const changed = await call(bindings, "POST", "/api/auth/password/change", bearer(user.accessToken), {
      currentPassword: user.password,
      newPassword: strongPassword(),
    });
    expect(changed.status).toBe(204);
    expect((await call(bindings, "GET", "/api/auth/verify", bearer(other.accessToken))).status).toBe(401);
    expect((await call(bindings, "GET", "/api/auth/verify", bearer(user.accessToken))).status).toBe(200);
  });

  it("ending one device session, and all the others", HASHING_HEAVY, async () => {
    const { bindings } = bindingsWithBound(30);
    const [second, third] = [await login(user.email, user.password), await login(user.email, user.password)];
    for (const session of [second, third])
      expect((await call(bindings, "GET", "/api/auth/verify", bearer(session.accessToken))).status).toBe(200);
    expect((await call(bindings, "DELETE", `/api/auth/sessions/${sessionIdOf(second)}`, bearer(user.accessToken))).status).toBe(204);
    expect((await call(bindings, "GET", "/api/auth/verify", bearer(second.accessToken))).status).toBe(401);
    expect((await call(bindings, "GET", "/api/auth/verify", bearer(third.accessToken))).status).toBe(200);
    expect((await call(bindings, "POST", "/api/auth/sessions/revoke-others", bearer(user.accessToken))).body).toEqual({ revoked: 1 });
    expect((await call(bindings, "GET", "/api/auth/verify", bearer(third.accessToken))).status).toBe(401);
    expect((await call(bindings, "GET", "/api/auth/verify", bearer(user.accessToken))).status).toBe(200);
  });
});
