import type { Context } from "hono";
import type { AppEnv } from "../context";
import type { UserRow } from "../db/schema";
import { ApiError } from "../errors";
import { findUserById } from "../identity/users";
import type { SessionPrincipal } from "./principal";

/**
 * The caller as a person's session. Routes whose ROUTE_CREDENTIALS row admits sessions only call
 * it to narrow the type; anything else reaching it is refused rather than trusted.
 */
export function sessionPrincipal(c: Context<AppEnv>): SessionPrincipal {
  const principal = c.get("principal");
  if (principal.kind !== "access_token" && principal.kind !== "session_cookie") {
    throw new ApiError("forbidden", "This route needs a person's session, not an API key or PQC token.");
  }
  return principal;
}

/** The caller's account as it is now; 401 when it was deleted after the credential was issued. */
export async function callerAccount(c: Context<AppEnv>): Promise<UserRow> {
  const user = await findUserById(c.get("db"), c.get("principal").userId);
  if (!user) throw new ApiError("unauthorized", "The account no longer exists.");
  return user;
}
