import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../../context";
import { ApiError } from "../../errors";

const ALLOWED_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS";
const ALLOWED_HEADERS = "Authorization, Content-Type, X-API-Key, X-Heady-PQC-Token";
const EXPOSED_HEADERS = "X-Request-Id, Retry-After, X-Heady-Receipt";
const PREFLIGHT_MAX_AGE_SECONDS = "600";

/**
 * CORS from the `ALLOWED_ORIGINS` allowlist only: the request's Origin is echoed when it is
 * exactly in the list (or is this Worker's own origin), with `Vary: Origin`; never `*`, never a
 * prefix or suffix match, and `null` is foreign. A request from a foreign origin is refused with
 * 403 before it reaches a route, which also stops cross-site form posts that ride on cookies.
 * Requests without an Origin (server to server) pass untouched.
 *
 * Never `Access-Control-Allow-Credentials`: the session cookie is SameSite=Strict, which does not
 * separate same-site siblings, so with it a script on any allowlisted sibling (or an XSS there) could
 * read a person's keys, sessions and memory with their cookie. Our own pages are same-origin and need
 * no CORS; siblings (the widget) call with a bearer token, which needs no credentialed CORS.
 */
export function cors() {
  return createMiddleware<AppEnv>(async function cors(c, next) {
    const origin = c.req.header("Origin");
    c.header("Vary", "Origin", { append: true });
    if (origin === undefined) return next();

    const allowed = c.get("config").allowedOrigins.has(origin) || origin === new URL(c.req.url).origin;
    if (!allowed) throw new ApiError("origin_not_allowed", "This origin is not allowed to call the API.");

    if (c.req.method === "OPTIONS" && c.req.header("Access-Control-Request-Method")) {
      return c.body(null, 204, {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": ALLOWED_METHODS,
        "Access-Control-Allow-Headers": ALLOWED_HEADERS,
        "Access-Control-Max-Age": PREFLIGHT_MAX_AGE_SECONDS,
        Vary: "Origin",
      });
    }
    await next();
    c.header("Access-Control-Allow-Origin", origin);
    c.header("Access-Control-Expose-Headers", EXPOSED_HEADERS);
  });
}
