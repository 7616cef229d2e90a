import { fromBase64Url, toBase64Url, utf8 } from "./encoding";

/**
 * The one JWS/JWT implementation every token kind goes through, per RFC 8725:
 * - compact serialisation only; the protected header may hold `alg`, `typ` and `kid` and
 *   nothing else, so `jku`, `x5u`, `x5c`, an embedded `jwk` and `crit` are refused, never honoured;
 * - `kid` must have its kind's exact format before any key is looked up (a 600-character `kid`
 *   never reaches KV or a JWKS fetch), then selects the key by exact match, and the key fixes the
 *   one algorithm it verifies, so `none` and algorithm confusion (HS256 keyed with a public key) cannot pass;
 * - `typ`, `iss`, `aud`, `exp` and `iat` are required and checked, plus each kind's own claims.
 *
 * Signature checks are delegated to the key (`VerificationKey.verify`), which is what lets
 * ML-DSA-65 use native WebCrypto or `@noble/post-quantum` behind the same verifier.
 */

/** `Ed25519` is RFC 9864's fully-specified name for EdDSA over Ed25519; a key accepts one of the two names, never both. */
export type JwsAlgorithm = "HS256" | "EdDSA" | "Ed25519" | "ES256" | "RS256" | "ML-DSA-65";

/** The `kid` of every public key we publish: its RFC 7638 thumbprint, a base64url SHA-256 (43 characters). */
export const THUMBPRINT_KID = /^[A-Za-z0-9_-]{43}$/;

/** A key bound to the single algorithm it verifies. */
export interface VerificationKey {
  kid: string;
  alg: JwsAlgorithm;
  verify(signingInput: Uint8Array<ArrayBuffer>, signature: Uint8Array<ArrayBuffer>): Promise<boolean>;
}

/** A key that signs with one algorithm. */
export interface SigningKey {
  kid: string;
  alg: JwsAlgorithm;
  sign(signingInput: Uint8Array<ArrayBuffer>): Promise<Uint8Array>;
}

/** What one kind of token must look like. */
export interface TokenKind {
  /** The exact `typ` header value, e.g. `at+jwt`. */
  typ: string;
  /**
   * Also accept a header without `typ`: only for kinds defined before explicit typing (RFC 8725 §3.11)
   * whose senders mostly omit it, such as RFC 7523 client assertions; a `typ` that is present must still be exact.
   */
  typOptional?: boolean;
  issuer: string;
  audience: string;
  /** The exact format of this kind's `kid`; checked before `key` is asked, so lookups only ever see well-formed ids. */
  kidPattern: RegExp;
  /** Looks a key up by exact `kid`; may fetch (e.g. a public key from KMS) on a miss. */
  key(kid: string): VerificationKey | undefined | Promise<VerificationKey | undefined>;
  /** Claims that must be present besides `iss`, `aud`, `exp` and `iat`. */
  requiredClaims?: readonly string[];
  /** The longest lifetime (`exp - iat`) this kind may claim, in seconds. */
  maxLifetimeSeconds?: number;
}

export type JwtClaims = Record<string, unknown> & { iss: string; aud: string | string[]; exp: number; iat: number };

/** Why a token was refused; logged, never shown to the caller in detail. */
export class TokenError extends Error {
  override name = "TokenError";
  constructor(readonly reason: string) {
    super(reason);
  }
}

const ALLOWED_HEADER_MEMBERS = new Set(["alg", "typ", "kid"]);
const COMPACT_JWS = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/;
/** Tolerated clock difference for `iat` and `nbf` only; `exp` is never stretched. */
const CLOCK_SKEW_SECONDS = 30;

/** Strict base64url (one spelling per byte string), or a TokenError naming the segment. */
function decodeSegment(segment: string, what: string): Uint8Array<ArrayBuffer> {
  try {
    return fromBase64Url(segment);
  } catch {
    throw new TokenError(`malformed_${what}_encoding`);
  }
}

function parseJsonObject(bytes: Uint8Array, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes));
  } catch {
    throw new TokenError(`malformed_${what}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new TokenError(`malformed_${what}`);
  return value as Record<string, unknown>;
}

function parseJsonSegment(segment: string, what: string): Record<string, unknown> {
  return parseJsonObject(decodeSegment(segment, what), what);
}

/** Reads the protected header without trusting it (for routing a token to its verifier). */
export function peekHeader(token: string): Record<string, unknown> | undefined {
  const match = COMPACT_JWS.exec(token);
  if (!match) return undefined;
  try {
    return parseJsonSegment(match[1]!, "header");
  } catch {
    return undefined;
  }
}

function checkClaims(claims: Record<string, unknown>, kind: TokenKind, nowSeconds: number): JwtClaims {
  for (const name of ["iss", "aud", "exp", "iat", ...(kind.requiredClaims ?? [])]) {
    if (claims[name] === undefined) throw new TokenError(`missing_${name}`);
  }
  const { iss, aud, exp, iat, nbf } = claims;
  if (iss !== kind.issuer) throw new TokenError("wrong_iss");
  const audiences = Array.isArray(aud) ? aud : [aud];
  if (!audiences.includes(kind.audience)) throw new TokenError("wrong_aud");
  if (typeof exp !== "number" || !Number.isFinite(exp)) throw new TokenError("bad_exp");
  if (typeof iat !== "number" || !Number.isFinite(iat)) throw new TokenError("bad_iat");
  if (exp <= nowSeconds) throw new TokenError("expired");
  if (iat > nowSeconds + CLOCK_SKEW_SECONDS) throw new TokenError("iat_in_future");
  if (nbf !== undefined && (typeof nbf !== "number" || nbf > nowSeconds + CLOCK_SKEW_SECONDS)) {
    throw new TokenError("not_yet_valid");
  }
  if (kind.maxLifetimeSeconds !== undefined && exp - iat > kind.maxLifetimeSeconds) {
    throw new TokenError("lifetime_too_long");
  }
  return claims as JwtClaims;
}

/** Verifies a compact JWS as a token of `kind`, returning its claims or throwing `TokenError`. */
export async function verifyJwt(token: string, kind: TokenKind): Promise<JwtClaims> {
  const match = COMPACT_JWS.exec(token);
  if (!match) throw new TokenError("malformed");
  const [, headerSegment, payloadSegment, signatureSegment] = match as unknown as [string, string, string, string];
  const header = parseJsonSegment(headerSegment, "header");
  for (const member of Object.keys(header)) {
    if (!ALLOWED_HEADER_MEMBERS.has(member)) throw new TokenError(`forbidden_header_${member}`);
  }
  if (header.typ !== kind.typ && !(kind.typOptional && header.typ === undefined)) throw new TokenError("wrong_typ");
  if (typeof header.kid !== "string") throw new TokenError("missing_kid");
  if (!kind.kidPattern.test(header.kid)) throw new TokenError("malformed_kid");
  const key = await kind.key(header.kid);
  if (!key || key.kid !== header.kid) throw new TokenError("unknown_kid");
  if (header.alg !== key.alg) throw new TokenError("wrong_alg");
  // Every segment is decoded strictly before the signature is checked, so a non-canonical
  // spelling is refused whatever signature it carries; the claims are read only after the check.
  const payload = decodeSegment(payloadSegment, "payload");

  const signature = decodeSegment(signatureSegment, "signature");
  if (!(await key.verify(utf8(`${headerSegment}.${payloadSegment}`), signature))) throw new TokenError("bad_signature");
  return checkClaims(parseJsonObject(payload, "payload"), kind, Math.floor(Date.now() / 1000));
}

/** Signs claims as a compact JWS with exactly `alg`, `typ` and `kid` in the header. */
export async function signJwt(claims: Record<string, unknown>, key: SigningKey, typ: string): Promise<string> {
  const header = toBase64Url(utf8(JSON.stringify({ alg: key.alg, typ, kid: key.kid })));
  const payload = toBase64Url(utf8(JSON.stringify(claims)));
  const signature = await key.sign(utf8(`${header}.${payload}`));
  return `${header}.${payload}.${toBase64Url(signature)}`;
}
