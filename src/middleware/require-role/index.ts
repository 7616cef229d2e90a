import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../../context";
import type { CredentialPolicy } from "../../credentials/route-credentials";
import { ApiError } from "../../errors";
import { isRole, ROLE_LEVELS, type Role, roleAtLeast } from "../../identity/roles";
import { authenticate } from "../authenticate";

/**
 * Authenticates the caller with a credential of a kind `policy` accepts (a row of ROUTE_CREDENTIALS)
 * and requires at least `minimum` (admin 4 > operator 3 > user 2 > guest 1). Throws at build time
 * for an unknown role, so a typo cannot silently open a route.
 * @example requireRole("admin", ROUTE_CREDENTIALS.admin)
 */
export function requireRole(minimum: Role, policy: CredentialPolicy) {
  if (!isRole(minimum)) throw new TypeError(`requireRole: unknown role ${String(minimum)}`);
  const verify = authenticate(policy);
  return createMiddleware<AppEnv>(async function requireRole(c, next) {
    await verify(c, async () => {
      const { role } = c.get("principal");
      if (!roleAtLeast(role, minimum)) {
        throw new ApiError("forbidden", `This requires the ${minimum} role (level ${ROLE_LEVELS[minimum]}) or higher.`);
      }
      await next();
    });
  });
}
