import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../../context";

/**
 * `Cache-Control: no-store` (and `Pragma: no-cache` for HTTP/1.0 caches, as RFC 6749 §5.1 asks of
 * token responses) on every response that does not set a Cache-Control of its own.
 *
 * No caching is the default, not a header each route adds: almost everything an identity server
 * answers is a token, a key, a secret or one person's own data, and a route that forgot the header
 * would let a browser or proxy cache keep a copy. Only what is public and the same for everyone
 * (the JWKS, the stylesheet) says it may be cached, by setting its own Cache-Control. Gateway
 * origins may do the same; one that says nothing is treated as the personal answer it may well be.
 */
export function noStore() {
  return createMiddleware<AppEnv>(async function noStore(c, next) {
    await next();
    if (c.res.headers.has("Cache-Control")) return;
    c.header("Cache-Control", "no-store");
    c.header("Pragma", "no-cache");
  });
}
