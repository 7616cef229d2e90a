import { z } from "zod";
import { fromBase64Url, toHex } from "../crypto/encoding";
import { MESH_ROLES, type MeshRoleTopics } from "./permissions";

/**
 * PulseMesh settings, validated in `src/env.ts` with everything else:
 * - `PULSE_AUTH_MODE`: `token` (only valid node tokens; the default, in dev too), `dual` (tokens
 *   verified when present, token-less "stub" nodes accepted and marked) or `stub` (no auth;
 *   local runs only, src/platform/local-run.ts).
 * - `SAGE_TOKEN_ALG`: `RS256` (the default, docs/configuration.md; key `SAGE_PRIVATE_KEY`) or `ML-DSA-65` (signed by the
 *   PQC signer, KMS in production). Exactly one algorithm is accepted at a time (RFC 8725).
 * - `MESH_ROLE_TOPICS`: each role's default topic permissions (a wrangler.toml table).
 * - `MESH_FORBIDDEN_EMIT`: after refusing an emit with an error frame, `close` (the default,
 *   docs/configuration.md: close 1008) or `error` (keep the socket).
 * - `MESH_RATE_LIMIT_PER_MINUTE` and `MESH_RATE_ACTION`: past the limit a node is flagged (one
 *   audit event per window) and then `throttle`d (its extra pulses refused), `close`d (1013,
 *   try again later) or only `flag`ged.
 * - `MESH_MAX_SOCKETS_PER_NODE`: how many sockets one node may hold open at once, across all
 *   topics; a connect past it is closed with 1013 (try again later).
 */
export const MESH_AUTH_MODES = ["stub", "dual", "token"] as const;
export type MeshAuthMode = (typeof MESH_AUTH_MODES)[number];

export const NODE_TOKEN_ALGORITHMS = ["RS256", "ML-DSA-65"] as const;
export type NodeTokenAlgorithm = (typeof NODE_TOKEN_ALGORITHMS)[number];

export const FORBIDDEN_EMIT_ACTIONS = ["close", "error"] as const;
export const RATE_ACTIONS = ["throttle", "close", "flag"] as const;
export type RateAction = (typeof RATE_ACTIONS)[number];

export const NODE_TOKEN_DEFAULT_TTL_SECONDS = 24 * 60 * 60;
export const NODE_TOKEN_MAX_TTL_SECONDS = 7 * 24 * 60 * 60;
export const MESH_DEFAULT_RATE_LIMIT_PER_MINUTE = 1000;
export const MESH_DEFAULT_MAX_SOCKETS_PER_NODE = 8;
/** A cap above this is no cap; it also keeps a sweep's deletions within one D1 statement's 100 parameters. */
export const MESH_MAX_SOCKETS_PER_NODE_LIMIT = 64;

export interface MeshConfig {
  authMode: MeshAuthMode;
  tokenAlgorithm: NodeTokenAlgorithm;
  tokenTtlSeconds: number;
  /** PKCS#8 DER, base64url; present whenever `tokenAlgorithm` is RS256. */
  nodeTokenPrivateKey?: string | undefined;
  roleTopics: MeshRoleTopics;
  forbiddenEmit: (typeof FORBIDDEN_EMIT_ACTIONS)[number];
  rateLimitPerMinute: number;
  rateAction: RateAction;
  maxSocketsPerNode: number;
}

/** Without a `MESH_ROLE_TOPICS` table no role may do anything: deny by default. */
export const NO_ROLE_TOPICS: MeshRoleTopics = Object.fromEntries(
  MESH_ROLES.map((role) => [role, { allow: [], listen: [], deny: [] }]),
) as unknown as MeshRoleTopics;

/** The DER prefix of the rsaEncryption AlgorithmIdentifier (OID 1.2.840.113549.1.1.1). */
const RSA_ENCRYPTION_OID_HEX = "06092a864886f70d010101";
/** A PKCS#8 wrapping of a 2048-bit RSA key is about 1,216 bytes; anything much shorter is a smaller key. */
const MIN_RSA_2048_PKCS8_BYTES = 1100;

function looksLikeRsaPkcs8(value: string): boolean {
  let der: Uint8Array;
  try {
    der = fromBase64Url(value);
  } catch {
    return false;
  }
  return der.length >= MIN_RSA_2048_PKCS8_BYTES && der[0] === 0x30 && toHex(der.subarray(0, 32)).includes(RSA_ENCRYPTION_OID_HEX);
}

/**
 * The SAGE private key's shape: PKCS#8 DER, base64url, RSA, about 2048 bits or more. The first
 * signature imports it, which checks the rest; a key that fails there is a `ConfigError` too.
 */
export const rsaPrivateKeySecret = (name: string) =>
  z
    .string({ error: `${name} is not set` })
    .refine(looksLikeRsaPkcs8, `${name} must be an RSA private key of at least 2048 bits, PKCS#8 DER, base64url-encoded`);
