import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { DeviceSessionList, RevokedCount, SessionIdParam } from "../account-security/schemas";
import type { AppEnv } from "../context";
import { evictCachedSession, evictCachedUser } from "../credentials/revocable-state";
import { ROUTE_CREDENTIALS } from "../credentials/route-credentials";
import { sessionPrincipal } from "../credentials/session-principal";
import { ApiError } from "../errors";
import { clearSessionCookie } from "../identity/session-cookie";
import { liveSessionsOfUser, revokeOtherSessions, revokeSessionOfUser } from "../identity/sessions";
import { authenticate } from "../middleware/authenticate";
import { validationHook } from "../middleware/validation";
import { addressPrefix } from "../rate-limit/client-address";
import { errorResponses, isoTime, jsonResponse } from "../schemas/common";

/** A person's sign-ins, one per device or browser: listed, ended one at a time or all but this one. */
export const deviceSessionRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

const TAG = ["Account security"];

deviceSessionRoutes.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags: TAG,
    summary: "The caller's live sessions",
    description: "Newest first. The address is shown only as its network (IPv4 /24, IPv6 /48); `lastSeenAt` moves on each token refresh.",
    middleware: [authenticate(ROUTE_CREDENTIALS.deviceSessions)] as const,
    responses: { 200: jsonResponse(DeviceSessionList, "Live sessions"), ...errorResponses(401, 403) },
  }),
  async (c) => {
    const principal = sessionPrincipal(c);
    const sessions = await liveSessionsOfUser(c.get("db"), principal.userId);
    return c.json(
      {
        sessions: sessions.map((session) => ({
          id: session.id,
          current: session.id === principal.sessionId,
          createdAt: new Date(session.createdAt).toISOString(),
          lastSeenAt: isoTime(session.lastSeenAt),
          userAgent: session.userAgent,
          ipPrefix: addressPrefix(session.ip ?? undefined) ?? null,
          amr: session.amr,
        })),
      },
      200,
    );
  },
);

deviceSessionRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/{id}",
    tags: TAG,
    summary: "End one of the caller's sessions",
    description:
      "Ends the session, its refresh family and its access tokens at once. 404 for a session that is not the caller's or not live. Ending the current one also clears its cookie.",
    middleware: [authenticate(ROUTE_CREDENTIALS.deviceSessions)] as const,
    request: { params: SessionIdParam },
    responses: { 204: { description: "Session ended" }, ...errorResponses(400, 401, 403, 404) },
  }),
  async (c) => {
    const principal = sessionPrincipal(c);
    const { id } = c.req.valid("param");
    if (!(await revokeSessionOfUser(c.get("db"), principal.userId, id))) throw new ApiError("not_found", "No such session.");
    evictCachedSession(id);
    if (id === principal.sessionId) clearSessionCookie(c);
    await c.get("audit").record({ type: "session.revoked", subject: principal.userId, details: { sessionId: id } });
    return c.body(null, 204);
  },
);

deviceSessionRoutes.openapi(
  createRoute({
    method: "post",
    path: "/revoke-others",
    tags: TAG,
    summary: "End every session but this one",
    middleware: [authenticate(ROUTE_CREDENTIALS.deviceSessions)] as const,
    responses: { 200: jsonResponse(RevokedCount, "How many sessions ended"), ...errorResponses(401, 403) },
  }),
  async (c) => {
    const principal = sessionPrincipal(c);
    const ended = await revokeOtherSessions(c.get("db"), principal.userId, principal.sessionId);
    evictCachedUser(principal.userId);
    await c
      .get("audit")
      .record({ type: "session.revoked_others", subject: principal.userId, details: { kept: principal.sessionId, revoked: ended.length } });
    return c.json({ revoked: ended.length }, 200);
  },
);
