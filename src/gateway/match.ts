import type { GatewayPath } from "./path";
import type { GatewayRoute } from "./routes-config";

/**
 * The route for a path: the longest prefix that matches on whole segments, so `/api/repo` covers
 * `/api/repo` and `/api/repo/clone` but not `/api/repository`. `routes` must be sorted longest
 * first, as `GatewayRoutesSchema` leaves them.
 */
export function matchRoute(routes: readonly GatewayRoute[], path: GatewayPath): GatewayRoute | undefined {
  return routes.find((route) => route.keys.length <= path.keys.length && route.keys.every((key, index) => key === path.keys[index]));
}

export function allowsMethod(route: GatewayRoute, method: string): boolean {
  return route.methods === "*" || route.methods.has(method.toUpperCase());
}

/** The methods a route allows, for the `Allow` header of a 405. */
export function allowedMethods(route: GatewayRoute): string {
  return route.methods === "*" ? "*" : [...route.methods].join(", ");
}
