import { createMiddleware } from "hono/factory";
import { verifyCredential } from "../../auth/credentials";
import type { AppEnv } from "../../context";
import { ApiError } from "../../errors";

/** Requires a valid credential and puts the caller on the context as `principal`. */
export function authenticate() {
  return createMiddleware<AppEnv>(async function authenticate(c, next) {
    const principal = await verifyCredential(c);
    if (!principal) {
      throw new ApiError("unauthorized", "Authentication is required.", { "WWW-Authenticate": 'Bearer realm="heady"' });
    }
    c.set("principal", principal);
    await next();
  });
}
