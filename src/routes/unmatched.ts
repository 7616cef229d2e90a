import type { Context } from "hono";
import { METHOD_NAME_ALL } from "hono/router";
import { TrieRouter } from "hono/router/trie-router";
import type { RouterRoute } from "hono/types";
import type { AppEnv } from "../context";
import { ApiError } from "../errors";
import { allowHeader } from "../platform/http-methods";

/**
 * One router over every (method, path) the app registers, answering which methods a path takes.
 * `ALL` entries are left out: they are middleware, or handlers (the gateway) that answer every
 * method themselves, 405 included.
 */
function methodsRouter(routes: readonly RouterRoute[]): TrieRouter<string> {
  const router = new TrieRouter<string>();
  for (const route of routes) {
    if (route.method !== METHOD_NAME_ALL) router.add(METHOD_NAME_ALL, route.path, route.method);
  }
  return router;
}

/** The `Allow` value for a path: its methods, HEAD wherever GET is (Hono answers it), and OPTIONS; empty when no route has the path. */
function allowedMethods(router: TrieRouter<string>, path: string): string {
  const methods = router.match("GET", path)[0].map(([method]) => method);
  return methods.length === 0 ? "" : allowHeader([...methods, "OPTIONS"]);
}

/**
 * The app's `notFound`, which Hono calls whenever no handler matched the method and path: a path
 * some route has under other methods is 405 with `Allow` (RFC 9110 §15.5.6), or 204 with `Allow` for
 * a plain OPTIONS (CORS preflights are answered earlier, by `cors()`); any other path is 404. The
 * router is built on first use, once every route is registered.
 */
export function unmatchedRequest(app: { routes: readonly RouterRoute[] }) {
  let router: TrieRouter<string> | undefined;
  return function unmatchedRequest(c: Context<AppEnv>): Response {
    router ??= methodsRouter(app.routes);
    const allow = allowedMethods(router, c.req.path);
    if (allow === "") throw new ApiError("not_found", "No such route.");
    if (c.req.method === "OPTIONS") return c.body(null, 204, { Allow: allow });
    throw new ApiError("method_not_allowed", `This route allows ${allow} only.`, { Allow: allow });
  };
}
