import { allowHeader, HTTP_METHODS } from "../platform/http-methods";
import type { GatewayPath } from "./path";
import type { GatewayRoute } from "./routes-config";

type Fit = "exact" | "suffix" | undefined;

/**
 * How a route's prefix fits a path. A segment fits a key when it is the key, or the key plus a file
 * suffix: Spring's suffix pattern matching (and content negotiation by extension elsewhere) serves
 * `/clone.json` and `/clone.tar.gz` as `/clone`, so they must meet `/clone`'s rule.
 */
function howRouteFits(route: GatewayRoute, keys: readonly string[]): Fit {
  if (route.keys.length > keys.length) return undefined;
  let result: Fit = "exact";
  for (const [index, key] of route.keys.entries()) {
    const segment = keys[index]!;
    if (segment === key) continue;
    if (!segment.startsWith(`${key}.`)) return undefined;
    result = "suffix";
  }
  return result;
}

/**
 * The route for a path: the longest prefix that matches on whole segments, so `/api/repo` covers
 * `/api/repo` and `/api/repo/clone` but not `/api/repository`, and also `/api/repo.git`. Among
 * prefixes of the same length, one spelt exactly as the path wins over a suffix reading, and a longer
 * spelling over a shorter one (with both `/api/v1` and `/api/v1.2` routed, `/api/v1.2/x` and
 * `/api/v1.2.json` are `/api/v1.2`'s). `routes` must be sorted longest first, as
 * `GatewayRoutesSchema` leaves them.
 */
export function matchRoute(routes: readonly GatewayRoute[], path: GatewayPath): GatewayRoute | undefined {
  let bySuffix: GatewayRoute | undefined;
  for (const route of routes) {
    if (bySuffix && route.keys.length < bySuffix.keys.length) break;
    const how = howRouteFits(route, path.keys);
    if (how === "exact") return route;
    if (how === "suffix" && (!bySuffix || spelling(route) > spelling(bySuffix))) bySuffix = route;
  }
  return bySuffix;
}

function spelling(route: GatewayRoute): number {
  return route.keys.join("/").length;
}

/** Whether a route takes a method; HEAD goes wherever GET does, as on the Worker's own routes. */
export function allowsMethod(route: GatewayRoute, method: string): boolean {
  if (route.methods === "*") return true;
  const upper = method.toUpperCase();
  return route.methods.has(upper) || (upper === "HEAD" && route.methods.has("GET"));
}

/** The methods a route allows, for the `Allow` header of a 405 (a `*` route never answers 405). */
export function allowedMethods(route: GatewayRoute): string {
  return route.methods === "*" ? HTTP_METHODS.join(", ") : allowHeader(route.methods);
}
