import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../../context";
import type { Principal } from "../../credentials/principal";
import { verifyCredential } from "../../credentials/readers";
import { assertCredentialAccepted, assertCredentialPolicy, type CredentialPolicy } from "../../credentials/route-credentials";
import { ApiError } from "../../errors";

/**
 * Requires a valid credential of a kind `policy` accepts (a row of ROUTE_CREDENTIALS) and puts the
 * caller on the context as `principal`. None: 401; a valid one of another kind: 403.
 * @example authenticate(ROUTE_CREDENTIALS.profile)
 */
export function authenticate(policy: CredentialPolicy) {
  assertCredentialPolicy(policy, "authenticate");
  return createMiddleware<AppEnv>(async function authenticate(c, next) {
    const principal = await verifyCredential(c, policy.state);
    if (!principal) {
      throw new ApiError("unauthorized", "Authentication is required.", { "WWW-Authenticate": 'Bearer realm="heady"' });
    }
    assertCredentialAccepted(policy, principal);
    c.set("principal", principal);
    await next();
  });
}

/**
 * For routes where a credential is optional (a widget session may be a guest's): the caller's
 * principal when the request carries a credential, undefined when it carries none. An invalid
 * credential is refused as by `authenticate`, and a valid one of a kind `policy` does not accept is 403.
 */
export async function optionalPrincipal(c: Context<AppEnv>, policy: CredentialPolicy): Promise<Principal | undefined> {
  const principal = await verifyCredential(c, policy.state);
  if (principal) {
    assertCredentialAccepted(policy, principal);
    c.set("principal", principal);
  }
  return principal;
}
