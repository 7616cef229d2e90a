import type { Config } from "../env";
import { ApiError } from "../errors";
import { type Role, roleAtLeast } from "../identity/roles";
import { MESH_ROLES } from "../mesh/permissions";

/** The scope that lets a node fetch its own token: any mesh role, or `sage:bootstrap:<role>` for one. */
export const BOOTSTRAP_SCOPE = "sage:bootstrap";

/** PQC issuance for every service the key's role reaches, or `pqc:<service>` for one. */
export const PQC_SCOPE = "pqc";

/** Reading (and searching) the owner's user memory; writing it needs the person (ROUTE_CREDENTIALS.memoryWrite). */
export const MEMORY_READ_SCOPE = "memory:read";

/**
 * Every scope a key can carry under this configuration, with the lowest owner role that may grant
 * it: the role that can already do what the scope lets a key do. A key therefore never does more
 * than its owner could directly.
 * - `pqc`: user (issuance still checks each service's `minRole` against the key's role);
 * - `pqc:<service>` for each of PQC_SERVICES: that service's `minRole`;
 * - `sage:bootstrap`, `sage:bootstrap:<mesh role>`: operator (operators issue node tokens themselves);
 * - `memory:read`: user (every user reads their own memory);
 * - each scope an `api_key` route of GATEWAY_ROUTES requires: user.
 */
export function grantableScopes(config: Config): ReadonlyMap<string, Role> {
  let scopes = registries.get(config);
  if (!scopes) {
    scopes = new Map<string, Role>([[PQC_SCOPE, "user"]]);
    for (const [name, service] of Object.entries(config.pqc.services)) scopes.set(`${PQC_SCOPE}:${name}`, service.minRole);
    scopes.set(BOOTSTRAP_SCOPE, "operator");
    for (const role of MESH_ROLES) scopes.set(`${BOOTSTRAP_SCOPE}:${role}`, "operator");
    scopes.set(MEMORY_READ_SCOPE, "user");
    for (const route of config.gateway.routes) {
      if (route.require.kind !== "api_key") continue;
      for (const scope of route.require.scopes) if (!scopes.has(scope)) scopes.set(scope, "user");
    }
    registries.set(config, scopes);
  }
  return scopes;
}

/** One registry per validated configuration (the config is built once per isolate). */
const registries = new WeakMap<Config, Map<string, Role>>();

/** Refuses a scope nobody defined (400) and one above the owner's current role (403). */
export function assertGrantableScopes(config: Config, ownerRole: Role, requested: readonly string[]): void {
  const registry = grantableScopes(config);
  const unknown = requested.filter((scope) => !registry.has(scope));
  if (unknown.length > 0) {
    throw new ApiError("invalid_request", `Unknown scope ${unknown.join(", ")}; the scopes are: ${[...registry.keys()].join(", ")}.`);
  }
  const above = requested.filter((scope) => !roleAtLeast(ownerRole, registry.get(scope)!));
  if (above.length > 0) {
    const needs = above.map((scope) => `${scope} (${registry.get(scope)})`).join(", ");
    throw new ApiError("forbidden", `Your role (${ownerRole}) cannot grant ${needs}: a key never does more than its owner.`);
  }
}

/**
 * The scopes a key holds right now: those still defined that its owner's current role could grant.
 * Keys of a demoted owner, or stored before the list existed, lose the rest without being rewritten.
 */
export function effectiveScopes(config: Config, ownerRole: Role, stored: readonly string[]): string[] {
  const registry = grantableScopes(config);
  return stored.filter((scope) => {
    const minimum = registry.get(scope);
    return minimum !== undefined && roleAtLeast(ownerRole, minimum);
  });
}
