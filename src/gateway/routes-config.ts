import { z } from "zod";
import { ROLES, type Role } from "../identity/roles";
import { HTTP_METHODS } from "../platform/http-methods";
import { findServiceOperation, type PqcServices } from "../pqc/services";
import { parseGatewayPath } from "./path";

/**
 * The gateway's route table (`GATEWAY_ROUTES`: a wrangler.toml array of tables, or the same as a
 * JSON string), checked once at start-up with the rest of the config. Each route forwards a path
 * prefix, for some methods, to one origin once its requirement is met:
 *
 * - `public`: nothing is checked (the origin still gets an assertion saying so);
 * - `jwt` + `minRole`: a signed-in person (access token or session cookie) with at least that role;
 * - `api_key` + `scopes`: an `hdy_` key carrying every listed scope;
 * - `pqc` + `service`/`operation`: a PQC token or reference for exactly that, as `requirePQC`;
 * - `mtls`: a client certificate verified at Cloudflare's edge.
 *
 * Unknown members are refused, so a typo (`requires`, `minrole`) fails loudly instead of opening a route.
 */

export const DEFAULT_ORIGIN_TIMEOUT_MS = 10_000;
const MAX_ORIGIN_TIMEOUT_MS = 30_000;
const MAX_ROUTES = 256;

export type Requirement =
  | { kind: "public" }
  | { kind: "jwt"; minRole: Role }
  | { kind: "api_key"; scopes: string[] }
  | { kind: "pqc"; service: string; operation: string }
  | { kind: "mtls" };

export interface GatewayRateLimit {
  limit: number;
  windowSeconds: number;
}

export interface GatewayRoute {
  /** The prefix as configured, without a trailing slash (`/api/repo/clone`). */
  prefix: string;
  /** The prefix's matching keys (see `parseGatewayPath`). */
  keys: string[];
  /** Upper-case methods, or `*` for any. */
  methods: ReadonlySet<string> | "*";
  /** A bare origin (`https://repos.example.com`): requests go to this origin plus their own path. */
  origin: string;
  require: Requirement;
  rateLimit?: GatewayRateLimit | undefined;
  /** Pass the caller's credentials (Authorization, X-API-Key, PQC token, session cookie) on; default false. */
  forwardCredentials: boolean;
  /** How long the origin has to start answering before the caller gets 504. */
  timeoutMs: number;
}

const name = z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, "PQC service and operation names are lower-case words");
const scope = z.string().regex(/^[a-z][a-z0-9_.:-]{0,63}$/, "scopes are lower-case words such as `sync:read`");

const RequirementSchema = z.discriminatedUnion(
  "kind",
  [
    z.strictObject({ kind: z.literal("public") }),
    z.strictObject({
      kind: z.literal("jwt"),
      minRole: z.enum(ROLES as [Role, ...Role[]], { error: `minRole must be one of ${ROLES.join(", ")}` }),
    }),
    z.strictObject({ kind: z.literal("api_key"), scopes: z.array(scope).min(1, "an api_key route needs at least one scope").max(32) }),
    z.strictObject({ kind: z.literal("pqc"), service: name, operation: name }),
    z.strictObject({ kind: z.literal("mtls") }),
  ],
  { error: "require.kind must be one of public, jwt, api_key, pqc, mtls" },
);

const PrefixSchema = z
  .string()
  .max(512)
  .transform((prefix, ctx) => {
    const parsed = parseGatewayPath(prefix);
    if (!parsed.ok) {
      ctx.addIssue({ code: "custom", message: `prefix ${JSON.stringify(prefix)}: ${parsed.reason}` });
      return z.NEVER;
    }
    return { prefix: parsed.path.keys.length === 0 ? "/" : prefix.replace(/\/$/, ""), keys: parsed.path.keys };
  });

const OriginSchema = z.string().refine((value) => {
  try {
    const url = new URL(value);
    return (url.protocol === "https:" || url.protocol === "http:") && url.origin === value;
  } catch {
    return false;
  }
}, "origin must be a bare http(s) origin such as https://repos.example.com (no path, no trailing slash)");

const MethodsSchema = z
  .array(z.string().toUpperCase())
  .min(1, "a route needs at least one method")
  .refine(
    (methods) =>
      (methods.length === 1 && methods[0] === "*") || methods.every((method) => (HTTP_METHODS as readonly string[]).includes(method)),
    `methods must be ["*"] or some of ${HTTP_METHODS.join(", ")}`,
  )
  .transform((methods): ReadonlySet<string> | "*" => (methods[0] === "*" ? "*" : new Set(methods)));

const RouteSchema = z.strictObject({
  prefix: PrefixSchema,
  methods: MethodsSchema,
  origin: OriginSchema,
  require: RequirementSchema,
  rateLimit: z
    .strictObject({ limit: z.number().int().min(1).max(1_000_000), windowSeconds: z.number().int().min(1).max(86_400) })
    .optional(),
  forwardCredentials: z.boolean().default(false),
  timeoutMs: z.number().int().min(100).max(MAX_ORIGIN_TIMEOUT_MS).default(DEFAULT_ORIGIN_TIMEOUT_MS),
});

function describeIssue(issue: z.core.$ZodIssue): string {
  const where = issue.path.length ? `${issue.path.join(".")}: ` : "";
  return `${where}${issue.message}`;
}

/**
 * The whole table. Each entry is parsed on its own so that an error names the entry
 * (`GATEWAY_ROUTES[2] (/api/repo): require.minRole: ...`); prefixes must be unique (compared as
 * they are matched, so `/API/x` and `/api/x/` are the same prefix). Sorted longest prefix first.
 */
export const GatewayRoutesSchema = z
  .array(z.unknown(), { error: "GATEWAY_ROUTES must be an array of routes" })
  .max(MAX_ROUTES, `GATEWAY_ROUTES may hold at most ${MAX_ROUTES} routes`)
  .transform((entries, ctx): GatewayRoute[] => {
    const routes: GatewayRoute[] = [];
    const seen = new Map<string, number>();
    entries.forEach((entry, index) => {
      const label = `GATEWAY_ROUTES[${index}]${typeof (entry as { prefix?: unknown })?.prefix === "string" ? ` (${(entry as { prefix: string }).prefix})` : ""}`;
      const result = RouteSchema.safeParse(entry);
      if (!result.success) {
        for (const issue of result.error.issues) ctx.addIssue({ code: "custom", message: `${label}: ${describeIssue(issue)}` });
        return;
      }
      const { prefix, methods, origin, require, rateLimit, forwardCredentials, timeoutMs } = result.data;
      const matchKey = prefix.keys.join("/");
      const earlier = seen.get(matchKey);
      if (earlier !== undefined) {
        ctx.addIssue({ code: "custom", message: `${label}: prefix ${prefix.prefix} is already routed by GATEWAY_ROUTES[${earlier}]` });
        return;
      }
      seen.set(matchKey, index);
      routes.push({ prefix: prefix.prefix, keys: prefix.keys, methods, origin, require, rateLimit, forwardCredentials, timeoutMs });
    });
    return routes.sort((a, b) => b.keys.length - a.keys.length);
  });

/** What a route requires, as error messages and assertions name it: `pqc:production/clone`, `jwt:operator`. */
export function describeRequirement(requirement: Requirement): string {
  switch (requirement.kind) {
    case "public":
    case "mtls":
      return requirement.kind;
    case "jwt":
      return `jwt:${requirement.minRole}`;
    case "api_key":
      return `api_key:${requirement.scopes.join(" ")}`;
    case "pqc":
      return `pqc:${requirement.service}/${requirement.operation}`;
  }
}

/** Routes whose PQC service or operation `PQC_SERVICES` does not define (no token could ever pass them). */
export function undefinedPqcRequirements(routes: readonly GatewayRoute[], services: PqcServices): string[] {
  return routes.flatMap((route) => {
    const { require } = route;
    if (require.kind !== "pqc") return [];
    if (findServiceOperation(services, require.service, require.operation)) return [];
    return [`GATEWAY_ROUTES (${route.prefix}) requires ${describeRequirement(require)}, which PQC_SERVICES does not define`];
  });
}
