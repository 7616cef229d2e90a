import type { Context } from "hono";
import type { AppEnv } from "../context";
import { verifiedClientCertificate } from "../credentials/client-certificate";
import type { PqcPrincipal } from "../credentials/principal";
import { peekHeader, TokenError } from "../crypto/jwt";
import { ApiError } from "../errors";
import { observeMetric } from "../metrics/batch";
import { pqcVerificationKey } from "./keyring";
import { REFERENCE_PATTERN, resolveReference } from "./references";
import { PQC_TOKEN_TYP, verifyPqcToken } from "./token";
import { cachedPqcPrincipal, pqcCacheKey, rememberPqcPrincipal } from "./verified-cache";

export const PQC_HEADER = "X-Heady-PQC-Token";

export function invalidPqcToken(message = "The PQC token is invalid, expired or not bound to this client."): ApiError {
  return new ApiError("invalid_token", message, { "WWW-Authenticate": 'Bearer error="invalid_token"' });
}

/** True for a bearer value that is a PQC token or a reference rather than an access token. */
export function isPqcShaped(value: string): boolean {
  return REFERENCE_PATTERN.test(value) || peekHeader(value)?.typ === PQC_TOKEN_TYP;
}

/** The PQC credential the request carries (header first, then a PQC-shaped bearer), unverified. */
export function presentedPqcCredential(c: Context<AppEnv>): string | undefined {
  const header = c.req.header(PQC_HEADER);
  if (header !== undefined) return header.trim();
  const bearer = /^Bearer (\S+)$/.exec(c.req.header("Authorization") ?? "")?.[1];
  return bearer !== undefined && isPqcShaped(bearer) ? bearer : undefined;
}

/**
 * Verifies a PQC token or reference, once per isolate until its `exp` (src/pqc/verified-cache.ts). A reference resolves through D1 to its token, which is then
 * verified like any other, so it is good only while the token is. A token bound to a client
 * certificate (`cnf`) is accepted only over a connection that presents that same certificate.
 */
export async function verifyPqcCredential(c: Context<AppEnv>, presented: string): Promise<PqcPrincipal> {
  const started = performance.now();
  try {
    const principal = await verifyOnce(c, presented);
    observeVerification(principal.service, "valid", started);
    return principal;
  } catch (error) {
    // Only refusals are "invalid"; an outage (503) says nothing about the token.
    if (error instanceof ApiError && error.code === "invalid_token") observeVerification("unknown", "invalid", started);
    throw error;
  }
}

/** `service` is the token's own claim, which only a valid token (of a configured service) carries. */
function observeVerification(service: string, result: "valid" | "invalid", started: number): void {
  observeMetric("heady_pqc_verification_duration_seconds", { service, result }, (performance.now() - started) / 1000);
}

async function verifyOnce(c: Context<AppEnv>, presented: string): Promise<PqcPrincipal> {
  const certificate = verifiedClientCertificate(c.req.raw);
  const cacheKey = await pqcCacheKey(presented, certificate);
  const cached = cachedPqcPrincipal(cacheKey);
  // A cached token is as good as its key: after a rotation's overlap the old kid stops verifying here too.
  if (cached && (await pqcVerificationKey(c.get("config"), c.env.CACHE, cached.kid))) return cached;
  const principal = await verifyUncached(c, presented, certificate);
  rememberPqcPrincipal(cacheKey, principal);
  return principal;
}

async function verifyUncached(c: Context<AppEnv>, presented: string, certificate: string | undefined): Promise<PqcPrincipal> {
  const viaReference = REFERENCE_PATTERN.test(presented);
  const token = viaReference ? await resolveReference(c.get("db"), presented) : presented;
  if (token === undefined) throw invalidPqcToken("The PQC reference is unknown or expired.");
  let claims;
  try {
    claims = await verifyPqcToken(c.get("config"), c.env.CACHE, token);
  } catch (error) {
    if (error instanceof TokenError) throw invalidPqcToken();
    throw error;
  }
  if (claims.cnf && claims.cnf["x5t#S256"] !== certificate) {
    throw invalidPqcToken("The PQC token is bound to a client certificate this connection did not present.");
  }
  return {
    kind: "pqc_token",
    userId: claims.sub,
    email: "",
    role: claims.role,
    service: claims.service,
    operation: claims.operation,
    permissions: claims.permissions,
    jti: claims.jti,
    kid: peekHeader(token)!.kid as string, // verified above: a thumbprint the keyring knows
    expiresAt: claims.exp,
    viaReference,
  };
}
