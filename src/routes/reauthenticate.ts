import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { admitLoginAttempt, forgetLoginFailures } from "../account-security/login-throttle";
import { acceptFreshTotpCode } from "../account-security/mfa-challenge";
import { ReauthenticateBody, Reauthenticated } from "../account-security/reauthentication-schemas";
import { RECENT_AUTHENTICATION_SECONDS } from "../account-security/recent-authentication";
import type { AppEnv } from "../context";
import { evictCachedSession } from "../credentials/revocable-state";
import { ROUTE_CREDENTIALS } from "../credentials/route-credentials";
import { callerAccount, sessionPrincipal } from "../credentials/session-principal";
import { decoyPasswordHash, verifyPassword } from "../crypto/password";
import { ApiError } from "../errors";
import { markSessionAuthenticated } from "../identity/sessions";
import { hasPassword } from "../identity/users";
import { authenticate } from "../middleware/authenticate";
import { validationHook } from "../middleware/validation";
import { errorResponses, jsonBody, jsonResponse } from "../schemas/common";

/** `POST /api/auth/reauthenticate`: the person proves who they are again, and the session may make sensitive changes for a while. */
export const reauthenticateRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

const REFUSED = "That did not match. Try again, or sign out and sign in again.";

reauthenticateRoutes.openapi(
  createRoute({
    method: "post",
    path: "/reauthenticate",
    tags: ["Account security"],
    summary: "Prove who you are again (for sensitive changes)",
    description: `Takes the account's password or a current authenticator code (a passkey goes through \`/api/auth/reauthenticate/passkey\`). Adding or removing a passkey, TOTP, an API key or a linked sign-in provider needs a sign-in or re-authentication within ${RECENT_AUTHENTICATION_SECONDS / 60} minutes in this session (401 \`reauthentication_required\` otherwise). Wrong answers count against the login lockout. An account with none of these (provider sign-in only) signs in again through its provider instead.`,
    middleware: [authenticate(ROUTE_CREDENTIALS.reauthenticate)] as const,
    request: { body: jsonBody(ReauthenticateBody) },
    responses: {
      200: jsonResponse(Reauthenticated, "The session counts as freshly authenticated"),
      ...errorResponses(400, 401, 403, 413, 429),
    },
  }),
  async (c) => {
    const { password, code } = c.req.valid("json");
    const principal = sessionPrincipal(c);
    const user = await callerAccount(c);
    await admitLoginAttempt(c, user.email);
    const method = password !== undefined ? "password" : "totp";
    const accepted =
      password !== undefined
        ? // An account without a password costs the same work as a wrong password.
          (await verifyPassword(password, hasPassword(user) ? user.passwordHash : await decoyPasswordHash())).valid && hasPassword(user)
        : await acceptFreshTotpCode(c.get("db"), user.id, code!);
    if (!accepted) {
      await c
        .get("audit")
        .record({ type: "reauthentication.failed", subject: user.id, details: { method, sessionId: principal.sessionId } });
      throw new ApiError("invalid_credentials", REFUSED);
    }
    await forgetLoginFailures(c, user.email);
    return c.json(await markReauthenticated(c, principal.sessionId, user.id, method), 200);
  },
);

/** Records a successful re-authentication of a live session (any method) and answers its window. */
export async function markReauthenticated(c: Context<AppEnv>, sessionId: string, userId: string, method: string) {
  const now = Date.now();
  if (!(await markSessionAuthenticated(c.get("db"), sessionId, now)))
    throw new ApiError("unauthorized", "The session has ended; sign in again.");
  evictCachedSession(sessionId);
  await c.get("audit").record({ type: "session.reauthenticated", subject: userId, details: { method, sessionId } });
  return {
    authenticatedAt: new Date(now).toISOString(),
    recentUntil: new Date(now + RECENT_AUTHENTICATION_SECONDS * 1000).toISOString(),
  };
}
