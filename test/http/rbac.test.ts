import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Hono } from "hono";
import { beforeAll, describe, expect, it } from "vitest";
import type { AppEnv } from "../../src/context";
import { issueAccessToken } from "../../src/credentials/access-token";
import { ROUTE_CREDENTIALS } from "../../src/credentials/route-credentials";
import { renderError } from "../../src/error-handler";
import { ROLES, type Role } from "../../src/identity/roles";
import { requestContext } from "../../src/middleware/request-context";
import { requireRole } from "../../src/middleware/require-role";
import {
  attemptLogin,
  findUser,
  HASHING_HEAVY,
  login,
  registerUser,
  type SignedIn,
  sessionIdOf,
  updateUser,
  userWithRole,
} from "../support/accounts";
import { testConfig } from "../support/config";
import { SESSION_COOKIE } from "../support/cookies";
import { base64url } from "../support/encoding";
import { requestPqcToken } from "../support/pqc";
import { decodePayload } from "../support/tokens";
import { request } from "../support/worker";

/** A tiny app with the real middleware: one route per minimum role, plus the real error renderer. */
function protectedApp() {
  const app = new Hono<AppEnv>();
  app.use("*", requestContext());
  for (const minimum of ROLES) {
    app.get(`/${minimum}`, requireRole(minimum, ROUTE_CREDENTIALS.admin), (c) => {
      const principal = c.get("principal");
      return c.json({ minimum, role: principal.role, userId: principal.userId, kind: principal.kind });
    });
  }
  app.onError(renderError);
  return app;
}

async function callApp(path: string, credential: { token?: string; cookie?: string } = {}) {
  const headers = new Headers();
  if (credential.token !== undefined) headers.set("Authorization", `Bearer ${credential.token}`);
  if (credential.cookie !== undefined) headers.set("Cookie", `${SESSION_COOKIE}=${credential.cookie}`);
  const ctx = createExecutionContext();
  const response = await protectedApp().request(path, { headers }, env, ctx);
  await waitOnExecutionContext(ctx);
  return { status: response.status, headers: response.headers, body: (await response.json()) as any };
}

/** Level order, lowest first: guest < user < operator < admin. */
const ORDER: Role[] = ["guest", "user", "operator", "admin"];
const accounts = new Map<Role, SignedIn>();
const tokens = new Map<Role, string>();
/** Signed in through the bootstrap pair before any other account is made an admin. */
let admin: SignedIn;

beforeAll(async () => {
  const pair = testConfig().bootstrapAdmin;
  if (!pair) throw new Error("the test config must set the bootstrap admin pair");
  admin = await login(pair.email, pair.password);
  for (const role of ORDER) {
    const account = await registerUser();
    await updateUser(account.userId, { role });
    accounts.set(role, account);
    const { token } = await issueAccessToken(testConfig(), {
      userId: account.userId,
      email: account.email,
      role,
      sessionId: sessionIdOf(account),
    });
    tokens.set(role, token);
  }
}, HASHING_HEAVY.timeout);

describe("requireRole with tokens from issueAccessToken", () => {
  const matrix = ORDER.flatMap((role) => ORDER.map((minimum) => [role, minimum, ORDER.indexOf(role) >= ORDER.indexOf(minimum)] as const));

  it.each(matrix)("a %s calling a route that requires %s: allowed=%s", async (role, minimum, allowed) => {
    const response = await callApp(`/${minimum}`, { token: tokens.get(role) });
    if (allowed) {
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ minimum, role, userId: accounts.get(role)!.userId, kind: "access_token" });
    } else {
      expect(response.status).toBe(403);
      expect(response.body.error.code).toBe("forbidden");
      expect(response.body.error.message).toContain(minimum);
    }
  });

  it("the roles and their order are exactly the four tiers", () => {
    expect([...ROLES].sort()).toEqual([...ORDER].sort());
  });
});

describe("requireRole: authentication comes first", () => {
  it("no credential is 401 with WWW-Authenticate, not 403", async () => {
    const response = await callApp("/guest");
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe("unauthorized");
    expect(response.headers.get("WWW-Authenticate")).toMatch(/^Bearer/);
  });

  it("an invalid token is 401 invalid_token even on the lowest tier", async () => {
    const response = await callApp("/guest", { token: `${tokens.get("admin")}x` });
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe("invalid_token");
  });

  it("a token whose session was revoked is 401, whatever role it names", async () => {
    const account = await registerUser();
    await updateUser(account.userId, { role: "admin" });
    const { token } = await issueAccessToken(testConfig(), {
      userId: account.userId,
      email: account.email,
      role: "admin",
      sessionId: sessionIdOf(account),
    });
    expect((await callApp("/admin", { token })).status).toBe(200);
    expect((await request("POST", "/api/auth/logout", { token: account.accessToken })).status).toBe(204);
    expect((await callApp("/admin", { token })).status).toBe(401);
  });

  it("a role claim edited into a real token breaks its signature (401, not admin)", async () => {
    const token = tokens.get("user")!;
    const [header, , signature] = token.split(".");
    const forgedPayload = base64url(JSON.stringify({ ...decodePayload(token), role: "admin" }));
    const response = await callApp("/admin", { token: `${header}.${forgedPayload}.${signature}` });
    expect(response.status).toBe(401);
  });

  it("a session cookie carries the account's current role from the database", async () => {
    const account = await registerUser();
    expect((await callApp("/operator", { cookie: account.cookie })).status).toBe(403);
    await updateUser(account.userId, { role: "operator" });
    const response = await callApp("/operator", { cookie: account.cookie });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ role: "operator", kind: "session_cookie" });
  });

  it("refuses to build for a role that does not exist, so a typo cannot open a route", () => {
    expect(() => requireRole("superadmin" as Role, ROUTE_CREDENTIALS.admin)).toThrow(TypeError);
    expect(() => requireRole("constructor" as Role, ROUTE_CREDENTIALS.admin)).toThrow(TypeError);
    expect(() => requireRole("" as Role, ROUTE_CREDENTIALS.admin)).toThrow(TypeError);
  });
});

describe("requireRole on the Worker's admin routes, with the bootstrap admin", () => {
  it("the bootstrap login yields an admin token that passes an admin-only route", async () => {
    expect(admin.response.body.user.role).toBe("admin");
    const users = await request("GET", "/api/admin/users?limit=100", { token: admin.accessToken });
    expect(users.status).toBe(200);
    expect(users.body.users.map((user: { email: string }) => user.email)).toContain(admin.email);
  });

  it("a user token is 403 and no token is 401 on the same route", async () => {
    const user = await registerUser();
    const forbidden = await request("GET", "/api/admin/users", { token: user.accessToken });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error.code).toBe("forbidden");
    expect((await request("GET", "/api/admin/users")).status).toBe(401);
  });

  it("disabling a user through the admin API ends their sessions and their logins", async () => {
    const user = await registerUser();
    const disabled = await request("POST", `/api/admin/users/${user.userId}/disable`, { token: admin.accessToken });
    expect(disabled.status).toBe(200);
    expect(disabled.body.disabledAt).not.toBeNull();
    expect((await findUser(user.email))?.disabled_at).not.toBeNull();
    expect((await request("GET", "/api/auth/me", { token: user.accessToken })).status).toBe(401);
    expect((await request("GET", "/api/auth/me", { cookie: user.cookie })).status).toBe(401);
    expect((await attemptLogin(user.email, user.password)).status).toBe(401);
  });
});

describe("a demoted account's older access token acts at the account's current role", () => {
  it("no longer passes admin routes, and mints PQC tokens only at the current role", async () => {
    const demoted = await userWithRole("admin");
    const target = await registerUser();
    expect((await request("GET", "/api/admin/users", { token: demoted.accessToken })).status).toBe(200);
    await updateUser(demoted.userId, { role: "user" });

    expect((await request("GET", "/api/admin/users", { token: demoted.accessToken })).status).toBe(403);
    expect((await request("POST", `/api/admin/users/${target.userId}/disable`, { token: demoted.accessToken })).status).toBe(403);
    expect((await findUser(target.email))?.disabled_at).toBeNull();
    expect((await request("GET", "/api/audit/events", { token: demoted.accessToken })).status).toBe(403);
    expect((await request("GET", "/api/auth/verify", { token: demoted.accessToken })).body.role).toBe("user");

    const adminService = await requestPqcToken({ service: "admin", operation: "manage" }, { token: demoted.accessToken });
    expect(adminService.status).toBe(403);
    const ordinary = await requestPqcToken({ service: "headyme", operation: "sync" }, { token: demoted.accessToken });
    expect(ordinary.status).toBe(200);
    expect(decodePayload(ordinary.body.pqcToken).role).toBe("user");
  });

  it("a promotion does not widen a token issued before it: the lower of claim and account wins", async () => {
    const promoted = await registerUser();
    await updateUser(promoted.userId, { role: "admin" });
    expect((await request("GET", "/api/admin/users", { token: promoted.accessToken })).status).toBe(403);
    expect((await request("GET", "/api/auth/verify", { token: promoted.accessToken })).body.role).toBe("user");
  });
});
