import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { recordWithReceiptHeader } from "../audit/receipt-header";
import type { AppEnv } from "../context";
import { evictCachedUser } from "../credentials/revocable-state";
import { ROUTE_CREDENTIALS } from "../credentials/route-credentials";
import { decodeCursor, page } from "../db/cursor";
import type { UserRow } from "../db/schema";
import { ApiError } from "../errors";
import { AdminUser, ChangeRoleBody, ListUsersQuery, UserIdParam, UserList } from "../identity/admin-schemas";
import { ROLE_LEVELS, type Role, roleAtLeast } from "../identity/roles";
import { changeUserRole, countActiveAdmins, disableUser, findUserById, listUsers, publicProfile } from "../identity/users";
import { requireRole } from "../middleware/require-role";
import { validationHook } from "../middleware/validation";
import { errorResponses, jsonBody, jsonResponse } from "../schemas/common";

export const adminRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

const TAG = ["Administration"];

function adminView(user: UserRow) {
  return { ...publicProfile(user), disabledAt: user.disabledAt === null ? null : new Date(user.disabledAt).toISOString() };
}

/** The acting user as D1 has them now: a token minted before a demotion must not lend its old role. */
async function currentActor(c: Context<AppEnv>): Promise<UserRow> {
  const actor = await findUserById(c.get("db"), c.get("principal").userId);
  if (!actor || actor.disabledAt !== null) throw new ApiError("unauthorized", "The account is not active.");
  return actor;
}

/** Why a guarded write to another account did not happen: the state it was decided on changed. */
async function refusedChange(c: Context<AppEnv>): Promise<ApiError> {
  if ((await countActiveAdmins(c.get("db"))) <= 1) {
    return new ApiError("conflict", "At least one active admin must remain; the change was not made.");
  }
  return new ApiError("conflict", "Your account or the user's changed while the request ran; the change was not made. Reload and retry.");
}

async function targetUser(c: Context<AppEnv>, id: string): Promise<UserRow> {
  const target = await findUserById(c.get("db"), id);
  if (!target) throw new ApiError("not_found", "No such user.");
  return target;
}

adminRoutes.openapi(
  createRoute({
    method: "get",
    path: "/users",
    tags: TAG,
    summary: "List users (admin)",
    middleware: [requireRole("admin", ROUTE_CREDENTIALS.admin)] as const,
    request: { query: ListUsersQuery },
    responses: {
      200: jsonResponse(UserList, "One page of users, oldest first"),
      ...errorResponses(400, 401, 403),
    },
  }),
  async (c) => {
    const query = c.req.valid("query");
    const rows = await listUsers(c.get("db"), { cursor: decodeCursor(query.cursor), limit: query.limit + 1 });
    const result = page(rows, query.limit);
    return c.json({ users: result.rows.map(adminView), nextCursor: result.nextCursor }, 200);
  },
);

adminRoutes.openapi(
  createRoute({
    method: "put",
    path: "/users/{id}/role",
    tags: TAG,
    summary: "Change a user's role (operator or admin)",
    description:
      "Nobody changes their own role, or the role of someone at or above their level (admins excepted), or grants a role above their own. A demotion applies at once, to tokens already issued too (they act at the lower of their claim and the current role); a promotion applies to the user's next tokens.",
    middleware: [requireRole("operator", ROUTE_CREDENTIALS.admin)] as const,
    request: { params: UserIdParam, body: jsonBody(ChangeRoleBody) },
    responses: {
      200: jsonResponse(AdminUser, "The user with the new role"),
      ...errorResponses(400, 401, 403, 404, 409),
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const role = c.req.valid("json").role as Role;
    const actor = await currentActor(c);
    const target = await targetUser(c, id);
    if (target.id === actor.id) throw new ApiError("forbidden", "You cannot change your own role.");
    if (!roleAtLeast(actor.role, role)) {
      throw new ApiError("forbidden", `You cannot grant a role above your own (${actor.role}).`);
    }
    if (actor.role !== "admin" && ROLE_LEVELS[target.role] >= ROLE_LEVELS[actor.role]) {
      throw new ApiError("forbidden", "You cannot change the role of someone at or above your level.");
    }
    if (target.role !== role) {
      if (!(await changeUserRole(c.get("db"), target, role, actor))) throw await refusedChange(c);
      evictCachedUser(target.id);
      await recordWithReceiptHeader(c, {
        type: "user.role_changed",
        subject: target.id,
        actor: actor.id,
        details: { from: target.role, to: role },
      });
    }
    return c.json(adminView({ ...target, role }), 200);
  },
);

adminRoutes.openapi(
  createRoute({
    method: "post",
    path: "/users/{id}/disable",
    tags: TAG,
    summary: "Disable a user (admin)",
    description: "Ends all of the user's sessions, refresh families and API keys at once (ASVS 7.4.2).",
    middleware: [requireRole("admin", ROUTE_CREDENTIALS.admin)] as const,
    request: { params: UserIdParam },
    responses: {
      200: jsonResponse(AdminUser, "The disabled user"),
      ...errorResponses(400, 401, 403, 404, 409),
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const actor = await currentActor(c);
    if (id === actor.id) throw new ApiError("forbidden", "You cannot disable your own account.");
    await targetUser(c, id);
    if (await disableUser(c.get("db"), id, actor)) {
      evictCachedUser(id);
      await c.get("audit").record({ type: "user.disabled", subject: id, actor: actor.id });
    }
    const after = await targetUser(c, id);
    // Not disabled by this call and not disabled before it: a guard of the write refused it.
    if (after.disabledAt === null) throw await refusedChange(c);
    return c.json(adminView(after), 200);
  },
);
