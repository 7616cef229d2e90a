import type { Context } from "hono";
import type { AppEnv } from "../context";
import { ApiError } from "../errors";
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
