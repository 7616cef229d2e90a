import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../context";
import { verifiedClientCertificate } from "../credentials/client-certificate";
import { verifyCredential } from "../credentials/readers";
import { acceptsKind, ROUTE_CREDENTIALS } from "../credentials/route-credentials";
import { ApiError } from "../errors";
import { ROLE_LEVELS, type Role, roleAtLeast } from "../identity/roles";
import { requirePQC } from "../middleware/require-pqc";
import type { CallerClaims } from "./assertion";
import { describeRequirement, type GatewayRoute } from "./routes-config";

/**
 * Checks a route's requirement against the request, with the same verifiers the identity API
 * uses (`verifyCredential`, `requirePQC`, the edge's client-certificate check), and says who
 * the caller is. A missing credential, or one of the wrong kind, is 401; a valid one that falls
 * short (role, scope, PQC operation) is 403; each message names what the route requires. The
 * credential kinds never stand in for one another: an API key does not pass a `jwt` route.
 */
export async function checkRequirement(c: Context<AppEnv>, route: GatewayRoute): Promise<CallerClaims> {
  const { require } = route;
  switch (require.kind) {
    case "public":
      return { cred: "none" };
    case "jwt":
      return signedInPerson(c, require.minRole);
    case "api_key":
      return apiKeyWithScopes(c, require.scopes);
    case "pqc":
      return pqcCredential(c, require.service, require.operation);
    case "mtls":
      return clientCertificate(c);
  }
}

async function signedInPerson(c: Context<AppEnv>, minRole: Role): Promise<CallerClaims> {
  const required = describeRequirement({ kind: "jwt", minRole });
  const principal = await verifyCredential(c, ROUTE_CREDENTIALS.gatewayJwt.state);
  if (principal) c.set("principal", principal);
  // A credential of a kind the route does not accept is as good as none here (401).
  // The kind comparison narrows the type; the row is what decides (it admits sessions only).
  const session = principal?.kind === "access_token" || principal?.kind === "session_cookie" ? principal : undefined;
  if (!session || !acceptsKind(ROUTE_CREDENTIALS.gatewayJwt, session.kind)) {
    throw new ApiError(
      "unauthorized",
      `This route requires a signed-in user (access token or session) with the ${minRole} role or higher.`,
      {
        "WWW-Authenticate": `Bearer realm="heady", scope="${required}"`,
      },
    );
  }
  if (!roleAtLeast(session.role, minRole)) {
    throw new ApiError(
      "forbidden",
      `This route requires the ${minRole} role (level ${ROLE_LEVELS[minRole]}) or higher; you are ${session.role}.`,
      {
        "WWW-Authenticate": `Bearer error="insufficient_scope", scope="${required}"`,
      },
    );
  }
  return { cred: session.kind, sub: session.userId, role: session.role };
}

async function apiKeyWithScopes(c: Context<AppEnv>, scopes: string[]): Promise<CallerClaims> {
  const wanted = scopes.join(" ");
  const principal = await verifyCredential(c, ROUTE_CREDENTIALS.gatewayApiKey.state);
  if (principal) c.set("principal", principal);
  // ROUTE_CREDENTIALS.gatewayApiKey: API keys only (compared directly, so that the type narrows).
  if (principal?.kind !== "api_key") {
    throw new ApiError("unauthorized", `This route requires an API key (X-API-Key) with scope ${wanted}.`, {
      "WWW-Authenticate": `ApiKey realm="heady", scope="${wanted}"`,
    });
  }
  const missing = scopes.filter((scope) => !principal.scopes.includes(scope));
  if (missing.length > 0) {
    throw new ApiError("forbidden", `This route requires an API key with scope ${wanted}; this key lacks ${missing.join(" ")}.`, {
      "WWW-Authenticate": `ApiKey error="insufficient_scope", scope="${wanted}"`,
    });
  }
  return { cred: "api_key", sub: principal.userId, role: principal.role, scopes: principal.scopes };
}

/** One `requirePQC` per service operation, built (and its names checked) once. */
const pqcChecks = new Map<string, MiddlewareHandler<AppEnv>>();

function pqcCheck(service: string, operation: string): MiddlewareHandler<AppEnv> {
  const key = `${service}/${operation}`;
  let check = pqcChecks.get(key);
  if (!check) {
    check = requirePQC(service, operation);
    pqcChecks.set(key, check);
  }
  return check;
}

/** Exactly `requirePQC`'s check and answers (its verification is cached per isolate until `exp`). */
async function pqcCredential(c: Context<AppEnv>, service: string, operation: string): Promise<CallerClaims> {
  await pqcCheck(service, operation)(c, async () => {});
  const principal = c.get("principal");
  if (principal?.kind !== "pqc_token") throw new Error("requirePQC passed without a PQC principal");
  const { userId, role, permissions } = principal;
  return { cred: "pqc_token", sub: userId, role, service, operation, permissions };
}

/**
 * The edge verified a client certificate (Cloudflare mTLS) or it did not. There is no HTTP
 * challenge that could ask for a certificate, so a missing one is 403, as Cloudflare's own
 * mTLS rules answer.
 */
function clientCertificate(c: Context<AppEnv>): CallerClaims {
  const thumbprint = verifiedClientCertificate(c.req.raw);
  if (!thumbprint) {
    throw new ApiError(
      "forbidden",
      "This route requires a client certificate verified at the edge (mTLS); this connection presented none.",
    );
  }
  return { cred: "mtls", sub: `cert:${thumbprint}`, cnf: { "x5t#S256": thumbprint } };
}
