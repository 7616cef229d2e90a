import { createMiddleware } from "hono/factory";
import { assertRecentAuthentication } from "../../account-security/recent-authentication";
import type { AppEnv } from "../../context";

/**
 * Requires that the person proved who they are in this session recently (sign-in or
 * `POST /api/auth/reauthenticate`; src/account-security/recent-authentication.ts), for routes that plant or
 * remove a way into the account. Goes after `authenticate` (or `requireRole`) with a policy that
 * reads `current` state, so a re-authentication made through another isolate is seen at once.
 * @example middleware: [authenticate(ROUTE_CREDENTIALS.passkeys), requireRecentAuthentication()]
 */
export function requireRecentAuthentication() {
  return createMiddleware<AppEnv>(async function requireRecentAuthentication(c, next) {
    assertRecentAuthentication(c.get("principal"));
    await next();
  });
}
