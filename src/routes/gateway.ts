import { OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../context";
import type { Principal } from "../credentials/principal";
import { ApiError } from "../errors";
import { type CallerClaims, signAssertion } from "../gateway/assertion";
import { ASSERTION_HEADER } from "../gateway/assertion-claims";
import { forwardToOrigin, originRequest } from "../gateway/forward";
import { allowedMethods, allowsMethod, matchRoute } from "../gateway/match";
import { type GatewayPath, parseGatewayPath } from "../gateway/path";
import { checkRequirement } from "../gateway/policy";
import { describeRequirement, type GatewayRoute } from "../gateway/routes-config";
import { clientIpKey, consumeRateLimit, type RateLimitRule } from "../rate-limit/limits";
import { errorResponses } from "../schemas/common";

/**
 * Everything under this one prefix, and nothing else, goes through the gateway: `/gw/api/repo/clone`
 * is forwarded as `/api/repo/clone`. A route table entry can therefore never shadow the identity
 * API (`/api/auth/...`), whatever prefixes it names.
 */
export const GATEWAY_MOUNT = "/gw";

export const gatewayRoutes = new OpenAPIHono<AppEnv>();

/** Refusals of a matched route that the audit trail keeps (missing or insufficient credentials, rate limits). */
const AUDITED_STATUSES: ReadonlySet<number> = new Set([401, 403, 429]);

/** The raw path behind the mount, parsed; a path the gateway will not match is 400 before any route is looked at. */
function pathBehindMount(pathname: string): GatewayPath {
  // Hono routes on a decoded path; the raw one must spell the mount literally too (not `/%67w/...`).
  if (pathname !== GATEWAY_MOUNT && !pathname.startsWith(`${GATEWAY_MOUNT}/`)) {
    throw new ApiError("invalid_request", "The gateway path is not in canonical form.");
  }
  const parsed = parseGatewayPath(pathname.slice(GATEWAY_MOUNT.length) || "/");
  if (!parsed.ok) throw new ApiError("invalid_request", `Refused path: ${parsed.reason}.`);
  return parsed.path;
}

function rateLimitRule(route: GatewayRoute): RateLimitRule | undefined {
  return route.rateLimit && { name: `gateway:${route.prefix}`, ...route.rateLimit };
}

function recordDenial(c: Context<AppEnv>, route: GatewayRoute, error: ApiError): void {
  // Set once a credential verified, even when it then fell short; unset when none did.
  const principal = c.get("principal") as Principal | undefined;
  void c.get("audit").recordCoalesced({
    type: "gateway.denied",
    subject: principal?.userId,
    details: { route: route.prefix, required: describeRequirement(route.require), code: error.code, method: c.req.method },
  });
}

gatewayRoutes.all("/*", async function gateway(c) {
  const config = c.get("config");
  const url = new URL(c.req.url);
  const path = pathBehindMount(url.pathname);
  const route = matchRoute(config.gateway.routes, path);
  if (!route) throw new ApiError("not_found", "No gateway route serves this path.");
  if (!allowsMethod(route, c.req.method)) {
    throw new ApiError("method_not_allowed", `${route.prefix} allows ${allowedMethods(route)} only.`, { Allow: allowedMethods(route) });
  }

  let caller: CallerClaims;
  try {
    caller = await checkRequirement(c, route);
    const rule = rateLimitRule(route);
    // Counted per caller once known (so a stranger cannot exhaust someone's allowance), else per address (IPv6 by /64).
    if (rule) await consumeRateLimit(c.env, rule, caller.sub ?? clientIpKey(c.get("meta")));
  } catch (error) {
    if (error instanceof ApiError && AUDITED_STATUSES.has(error.status)) recordDenial(c, route, error);
    throw error;
  }

  const requestId = c.get("requestId");
  const assertion = await signAssertion(
    config,
    { origin: route.origin, method: c.req.method, path: path.raw, requirement: describeRequirement(route.require), requestId },
    caller,
  );
  const target = { origin: route.origin, path: path.raw, search: url.search };
  const relayed = await forwardToOrigin(originRequest(c.req.raw, target, assertion, route.forwardCredentials), {
    timeoutMs: route.timeoutMs,
    requestId,
  });
  return withContextHeaders(c, relayed);
});

/**
 * Headers set on the context before the handler (`X-Request-Id`, CORS's `Vary: Origin`) reach only
 * responses built through it. Ours win over the origin's, except that `Vary` keeps both lists.
 */
function withContextHeaders(c: Context<AppEnv>, relayed: Response): Response {
  const vary = relayed.headers.get("Vary");
  relayed.headers.delete("Vary");
  relayed.headers.delete("X-Request-Id");
  const response = c.newResponse(relayed.body, relayed);
  if (vary) response.headers.append("Vary", vary);
  return response;
}

for (const method of ["get", "post", "put", "patch", "delete"] as const) {
  gatewayRoutes.openAPIRegistry.registerPath({
    method,
    path: "/{path}",
    tags: ["Gateway"],
    summary: "Forward to an origin service once the route's requirement is met",
    description: `The longest matching prefix of \`GATEWAY_ROUTES\` decides the origin and the requirement (public, jwt with a minimum role, api_key with scopes, pqc with service and operation, or mtls). Spellings an origin would fold into another path (dot segments, encoded slashes, backslashes or dots, double slashes, \`;\`, trailing dots or spaces, \`::$DATA\`, 8.3 names, invisible characters) are refused with 400; file suffixes (\`/clone.json\`) meet the rule of the path without them. The origin receives the request without client \`X-Heady-*\`, \`X-Forwarded-*\` and (by default) credentials, plus \`${ASSERTION_HEADER}\`: a 60-second EdDSA JWT (\`typ: assertion+jwt\`, \`aud\` = the origin) verifiable with \`/.well-known/jwks.json\`.`,
    request: { params: z.object({ path: z.string().openapi({ param: { name: "path", in: "path" }, example: "api/repo/clone" }) }) },
    responses: {
      200: { description: "The origin's answer (2xx, 3xx and 4xx pass through)" },
      ...errorResponses(400, 401, 403, 404, 429),
      405: { description: "The route does not allow this method; see Allow" },
      502: { description: "The origin could not be reached or failed (5xx)" },
      504: { description: "The origin did not answer in time" },
    },
  });
}
