import type { Context } from "hono";
import { verifyCredential } from "../auth/credentials";
import type { SessionPrincipal } from "../auth/principal";
import { ROUTE_CREDENTIALS } from "../auth/route-credentials";
import type { AppEnv } from "../context";
import { ApiError } from "../errors";
import { SIGN_IN_PAGE_PATH } from "../providers/config";

/**
 * The person a page request comes from, through the same verifier as every API route (the session
 * cookie, as browsers send it); undefined when there is none, or it ended or expired.
 */
export async function signedInPerson(c: Context<AppEnv>): Promise<SessionPrincipal | undefined> {
  try {
    const principal = await verifyCredential(c, ROUTE_CREDENTIALS.profile.state);
    return principal?.kind === "session_cookie" || principal?.kind === "access_token" ? principal : undefined;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return undefined;
    throw error;
  }
}

/** To the sign-in page, which comes back to `path` afterwards. */
export function redirectToSignIn(c: Context<AppEnv>, path: string): Response {
  return c.redirect(`${SIGN_IN_PAGE_PATH}?return=${encodeURIComponent(path)}`, 302);
}
