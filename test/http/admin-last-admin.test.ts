import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { changeUserRole, disableUser } from "../../src/identity/users";
import { attemptLogin, HASHING_HEAVY, registerUser, type SignedIn, userWithRole } from "../support/accounts";
import { auditEvents } from "../support/audit";
import { testConfig } from "../support/config";
import { request } from "../support/worker";

/**
 * "At least one active admin remains" must hold however requests interleave: the guard lives in the
 * UPDATE itself (one D1 transaction), not in a read before it. Each test starts from an empty admin set.
 */

const activeAdmins = async () =>
  (await env.DB.prepare("SELECT count(*) AS n FROM users WHERE role = 'admin' AND disabled_at IS NULL").first<{ n: number }>())!.n;
const disable = (actor: SignedIn, targetId: string) =>
  request("POST", `/api/admin/users/${targetId}/disable`, { token: actor.accessToken });
const setRole = (actor: SignedIn, targetId: string, role: string) =>
  request("PUT", `/api/admin/users/${targetId}/role`, { token: actor.accessToken, body: { role } });

beforeEach(async () => {
  await env.DB.prepare("UPDATE users SET role = 'user' WHERE role = 'admin'").run();
});

describe("the last active admin", HASHING_HEAVY, () => {
  it("two admins disabling each other at once: exactly one succeeds, one active admin remains", async () => {
    const [a, b] = await Promise.all([userWithRole("admin"), userWithRole("admin")]);
    const responses = await Promise.all([disable(a, b.userId), disable(b, a.userId)]);
    expect(responses.filter((response) => response.status === 200)).toHaveLength(1);
    const loser = responses.find((response) => response.status !== 200)!;
    expect([401, 403, 409]).toContain(loser.status);
    expect(await activeAdmins()).toBe(1);
  });

  it("two admins demoting each other at once: exactly one succeeds, one active admin remains", async () => {
    const [a, b] = await Promise.all([userWithRole("admin"), userWithRole("admin")]);
    const responses = await Promise.all([setRole(a, b.userId, "user"), setRole(b, a.userId, "user")]);
    expect(responses.filter((response) => response.status === 200)).toHaveLength(1);
    expect(await activeAdmins()).toBe(1);
  });

  it("a demotion racing a disable of the other admin leaves one active admin", async () => {
    const [a, b] = await Promise.all([userWithRole("admin"), userWithRole("admin")]);
    const responses = await Promise.all([setRole(a, b.userId, "operator"), disable(b, a.userId)]);
    expect(responses.filter((response) => response.status === 200)).toHaveLength(1);
    expect(await activeAdmins()).toBe(1);
  });

  it("a refused disable ends none of the target's sessions", async () => {
    const [a, b] = await Promise.all([userWithRole("admin"), userWithRole("admin")]);
    await Promise.all([disable(a, b.userId), disable(b, a.userId)]);
    const survivor = (await request("GET", "/api/auth/me", { token: a.accessToken })).status === 200 ? a : b;
    expect((await request("GET", "/api/admin/users", { token: survivor.accessToken })).status).toBe(200);
  });

  it("with two admins, one may still disable the other; the survivor then cannot be removed by anyone", async () => {
    const [a, b] = await Promise.all([userWithRole("admin"), userWithRole("admin")]);
    expect((await disable(a, b.userId)).status).toBe(200);
    expect(await activeAdmins()).toBe(1);
    expect((await disable(a, a.userId)).status).toBe(403);
    expect((await setRole(a, a.userId, "user")).status).toBe(403);
    expect(await activeAdmins()).toBe(1);
  });
});

describe("a change holds only while the state it was decided on does", HASHING_HEAVY, () => {
  it("a decider demoted or disabled after deciding changes nothing", async () => {
    const [a, b, target] = await Promise.all([userWithRole("admin"), userWithRole("admin"), registerUser()]);
    const db = database(env.DB);
    await env.DB.prepare("UPDATE users SET role = 'operator' WHERE id = ?").bind(b.userId).run();
    const staleB = { id: b.userId, role: "admin" as const };
    expect(await disableUser(db, target.userId, staleB)).toBe(false);
    expect(await changeUserRole(db, { id: target.userId, role: "user" }, "operator", staleB)).toBe(false);
    await env.DB.prepare("UPDATE users SET disabled_at = ? WHERE id = ?").bind(Date.now(), a.userId).run();
    expect(await disableUser(db, target.userId, { id: a.userId, role: "admin" })).toBe(false);
    expect((await request("GET", "/api/auth/me", { token: target.accessToken })).status).toBe(200);
  });

  it("a role change decided on a target's older role changes nothing", async () => {
    const [a, target] = await Promise.all([userWithRole("admin"), registerUser()]);
    const db = database(env.DB);
    const decider = { id: a.userId, role: "admin" as const };
    expect(await changeUserRole(db, { id: target.userId, role: "guest" }, "operator", decider)).toBe(false);
    expect(await changeUserRole(db, { id: target.userId, role: "user" }, "operator", decider)).toBe(true);
  });
});

describe("bootstrap promotion is one guarded transaction", HASHING_HEAVY, () => {
  it("concurrent bootstrap logins promote the registered account once, and every resulting session works", async () => {
    const pair = testConfig().bootstrapAdmin!;
    const squatter = await registerUser({ email: pair.email, password: "squatter-chose-this-1" });
    const logins = await Promise.all([attemptLogin(pair.email, pair.password), attemptLogin(pair.email, pair.password)]);
    expect(logins.map((login) => login.status)).toEqual([200, 200]);
    for (const login of logins) {
      expect((await request("GET", "/api/auth/me", { token: login.body.accessToken })).body.role).toBe("admin");
    }
    expect((await request("GET", "/api/auth/me", { token: squatter.accessToken })).status).toBe(401);
    expect(await auditEvents({ subject: squatter.userId, type: "user.bootstrapped_admin" })).toHaveLength(1);
    expect(await activeAdmins()).toBe(1);
  });

  it("once a race has left one admin, the bootstrap pair stays an ordinary login", async () => {
    const pair = testConfig().bootstrapAdmin!;
    const [a, b] = await Promise.all([userWithRole("admin"), userWithRole("admin")]);
    await Promise.all([disable(a, b.userId), disable(b, a.userId)]);
    const before = await env.DB.prepare("SELECT password_hash FROM users WHERE email = ?")
      .bind(pair.email)
      .first<{ password_hash: string }>();
    await attemptLogin(pair.email, pair.password);
    const after = await env.DB.prepare("SELECT role, password_hash FROM users WHERE email = ?")
      .bind(pair.email)
      .first<{ role: string; password_hash: string }>();
    expect(after?.role).not.toBe("admin");
    expect(after?.password_hash).toBe(before?.password_hash);
  });
});
