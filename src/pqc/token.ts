import { type JwtClaims, signJwt, THUMBPRINT_KID, TokenError, verifyJwt } from "../crypto/jwt";
import type { Config } from "../env";
import type { Role } from "../identity/roles";
import { isRole } from "../identity/roles";
import { pqcVerificationKey } from "./keyring";
import { PQC_TOKEN_MAX_TTL_SECONDS } from "./lifetimes";
import { operationPermissions, type PqcService } from "./services";
import { pqcSigner, SigningKeyChangedError } from "./signer";

/** PQC tokens: ML-DSA-65 compact JWS (RFC 9964), `typ: pqc+jwt`, at most 300 s. */
export const PQC_TOKEN_TYP = "pqc+jwt";
/** Every PQC token names this audience; which service it is for is in `service` and `heady_ctx`. */
export const PQC_AUDIENCE = "heady-pqc";

export interface PqcClaims extends JwtClaims {
  sub: string;
  role: Role;
  service: string;
  operation: string;
  permissions: string[];
  jti: string;
  heady_ctx: { service_id: string; endpoint: string; mtls_cert: string | null };
  /** RFC 8705 confirmation: the SHA-256 thumbprint of the client certificate the token is bound to. */
  cnf?: { "x5t#S256": string };
}

export interface PqcTokenRequest {
  subject: string;
  role: Role;
  serviceName: string;
  service: PqcService;
  operation: string;
  /** base64url SHA-256 of the client certificate, when the caller presented a verified one. */
  certificateThumbprint?: string | undefined;
}

/** Signs a PQC token with the configured signer (KMS or local). KMS failures propagate as `KmsUnavailableError`. */
export async function issuePqcToken(config: Config, request: PqcTokenRequest): Promise<{ token: string; claims: PqcClaims }> {
  const now = Math.floor(Date.now() / 1000);
  const thumbprint = request.certificateThumbprint;
  const claims: PqcClaims = {
    iss: config.issuer,
    aud: PQC_AUDIENCE,
    sub: request.subject,
    role: request.role,
    service: request.serviceName,
    operation: request.operation,
    permissions: operationPermissions(request.service, request.operation) ?? [],
    iat: now,
    exp: now + config.pqc.tokenTtlSeconds,
    jti: crypto.randomUUID(),
    heady_ctx: { service_id: request.service.serviceId, endpoint: request.service.endpoint, mtls_cert: thumbprint ?? null },
    ...(thumbprint ? { cnf: { "x5t#S256": thumbprint } } : {}),
  };
  const signer = pqcSigner(config);
  try {
    return { token: await signJwt(claims, await signer.signingKey(), PQC_TOKEN_TYP), claims };
  } catch (error) {
    // The KMS alias moved to a new key between our GetPublicKey and this Sign: sign once more
    // under the new key's kid (the signer has dropped the old one).
    if (!(error instanceof SigningKeyChangedError)) throw error;
    return { token: await signJwt(claims, await signer.signingKey(), PQC_TOKEN_TYP), claims };
  }
}

/** Verifies a PQC token's signature (by exact `kid`) and claims; the certificate binding is the caller's to check. */
export async function verifyPqcToken(config: Config, cache: KVNamespace, token: string): Promise<PqcClaims> {
  const claims = await verifyJwt(token, {
    typ: PQC_TOKEN_TYP,
    issuer: config.issuer,
    audience: PQC_AUDIENCE,
    kidPattern: THUMBPRINT_KID,
    key: (kid) => pqcVerificationKey(config, cache, kid),
    requiredClaims: ["sub", "service", "operation", "permissions", "jti", "heady_ctx"],
    maxLifetimeSeconds: PQC_TOKEN_MAX_TTL_SECONDS,
  });
  const { sub, role, service, operation, permissions, jti, heady_ctx: context, cnf } = claims;
  if (
    typeof sub !== "string" ||
    !isRole(role) ||
    typeof service !== "string" ||
    typeof operation !== "string" ||
    !Array.isArray(permissions) ||
    !permissions.every((p) => typeof p === "string") ||
    typeof jti !== "string" ||
    typeof context !== "object" ||
    context === null ||
    (cnf !== undefined && typeof (cnf as Record<string, unknown>)["x5t#S256"] !== "string")
  ) {
    throw new TokenError("bad_claims");
  }
  return claims as PqcClaims;
}
