import { describe, expect, it } from "vitest";
import { attemptLogin, refresh, registerUser, type SignedIn, userWithRole } from "../support/accounts";
import { auditEvents } from "../support/audit";
import { request } from "../support/worker";

const setRole = (actor: SignedIn, targetId: string, role: string) =>
  request("PUT", `/api/admin/users/${targetId}/role`, { token: actor.accessToken, body: { role } });
const disable = (actor: SignedIn, targetId: string) =>
  request("POST", `/api/admin/users/${targetId}/disable`, { token: actor.accessToken });

describe("GET /api/admin/users", () => {
  it("is for admins only, and pages every user exactly once", async () => {
    const user = await registerUser();
    const operator = await userWithRole("operator");
    expect((await request("GET", "/api/admin/users", { token: user.accessToken })).status).toBe(403);
    expect((await request("GET", "/api/admin/users", { token: operator.accessToken })).status).toBe(403);
    expect((await request("GET", "/api/admin/users")).status).toBe(401);

    const admin = await userWithRole("admin");
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; text: string; body: { users: Array<{ id: string }>; nextCursor: string | null } } = await request(
        "GET",
        `/api/admin/users?limit=3${cursor ? `&cursor=${cursor}` : ""}`,
        { token: admin.accessToken },
      );
      expect(page.status).toBe(200);
      expect(page.text).not.toMatch(/password|pbkdf2/i);
      seen.push(...page.body.users.map((u: { id: string }) => u.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(expect.arrayContaining([user.userId, operator.userId, admin.userId]));
    expect((await request("GET", "/api/admin/users?limit=0", { token: admin.accessToken })).status).toBe(400);
  });
});

describe("PUT /api/admin/users/:id/role", () => {
  it("an admin changes roles; the user's next tokens carry the new role, the issued one keeps its own", async () => {
    const admin = await userWithRole("admin");
    const target = await registerUser();
    const changed = await setRole(admin, target.userId, "operator");
    expect(changed.status).toBe(200);
    expect(changed.body.role).toBe("operator");
    expect(changed.headers.get("X-Heady-Receipt")).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);

    expect((await request("GET", "/api/auth/verify", { token: target.accessToken })).body.role).toBe("user");
    const refreshed = await refresh(target.refreshToken);
    expect((await request("GET", "/api/auth/verify", { token: refreshed.body.accessToken })).body.role).toBe("operator");
    const [event] = await auditEvents({ subject: target.userId, type: "user.role_changed" });
    expect(event).toMatchObject({ actor: admin.userId, details: { from: "user", to: "operator" } });
  });

  it("an operator cannot raise anyone above itself, nor touch peers or superiors", async () => {
    const operator = await userWithRole("operator");
    const user = await registerUser();
    expect((await setRole(operator, user.userId, "admin")).status).toBe(403);
    expect((await setRole(operator, user.userId, "operator")).status).toBe(200);
    const peer = await userWithRole("operator");
    expect((await setRole(operator, peer.userId, "guest")).status).toBe(403);
    const admin = await userWithRole("admin");
    expect((await setRole(operator, admin.userId, "user")).status).toBe(403);
    const guest = await userWithRole("guest");
    expect((await setRole(operator, guest.userId, "user")).status).toBe(200);
  });

  it("nobody changes their own role; users cannot use the route; bad input is 400 and unknown users 404", async () => {
    const admin = await userWithRole("admin");
    expect((await setRole(admin, admin.userId, "user")).status).toBe(403);
    const user = await registerUser();
    expect((await setRole(user, admin.userId, "guest")).status).toBe(403);
    expect((await setRole(admin, user.userId, "root")).status).toBe(400);
    expect((await setRole(admin, "not-a-uuid", "user")).status).toBe(400);
    expect((await setRole(admin, crypto.randomUUID(), "user")).status).toBe(404);
  });
});

describe("POST /api/admin/users/:id/disable", () => {
  it("ends every session, refresh family and API key of the user at once", async () => {
    const admin = await userWithRole("admin");
    const target = await registerUser();
    const second = await attemptLogin(target.email, target.password);
    const key = await request("POST", "/api/auth/api-keys", { token: target.accessToken, body: { description: "k" } });
    expect(key.status).toBe(201);

    const disabled = await disable(admin, target.userId);
    expect(disabled.status).toBe(200);
    expect(disabled.body.disabledAt).not.toBeNull();

    expect((await request("GET", "/api/auth/verify", { token: target.accessToken })).status).toBe(401);
    expect((await request("GET", "/api/auth/verify", { token: second.body.accessToken })).status).toBe(401);
    expect((await request("GET", "/api/auth/me", { cookie: target.cookie })).status).toBe(401);
    expect((await refresh(target.refreshToken)).status).toBe(401);
    expect((await request("GET", "/api/auth/verify", { headers: { "X-API-Key": key.body.key } })).status).toBe(401);
    const login = await attemptLogin(target.email, target.password);
    expect(login.status).toBe(401);
    expect(login.body.error.code).toBe("invalid_credentials");
    expect(await auditEvents({ subject: target.userId, type: "user.disabled" })).toHaveLength(1);
  });

  it("is for admins only, and an admin cannot disable themself", async () => {
    const operator = await userWithRole("operator");
    const user = await registerUser();
    expect((await disable(operator, user.userId)).status).toBe(403);
    const admin = await userWithRole("admin");
    expect((await disable(admin, admin.userId)).status).toBe(403);
    expect((await disable(admin, crypto.randomUUID())).status).toBe(404);
  });
});
