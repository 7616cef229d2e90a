import { decodeProtectedHeader, jwtVerify, SignJWT, type JWTPayload } from "jose";

/**
 * The one JWT verifier every token kind goes through, per RFC 8725:
 * compact serialisation only; the header may hold `alg`, `typ` and `kid` and nothing else
 * (so `jku`, `x5u`, `x5c`, an embedded `jwk` and `crit` are refused, never honoured);
 * `kid` selects the key by exact match; the key fixes the one algorithm it may be used with,
 * so `none` and algorithm confusion (HS256 keyed with a public key) cannot pass;
 * `typ`, `iss`, `aud` and `exp` are required and checked.
 */

export type JwsAlgorithm = "HS256" | "EdDSA" | "RS256" | "ML-DSA-65";

/** A verification key bound to the single algorithm it may be used with. */
export interface VerificationKey {
  kid: string;
  alg: JwsAlgorithm;
  key: CryptoKey | Uint8Array;
}

/** What one kind of token must look like. */
export interface TokenKind {
  /** The exact `typ` header value, e.g. `at+jwt`. */
  typ: string;
  issuer: string;
  audience: string;
  /** Looks a key up by exact `kid`. */
  key(kid: string): VerificationKey | undefined;
  /** Claims that must be present besides `iss`, `aud` and `exp`. */
  requiredClaims?: readonly string[];
}

/** Why a token was refused; logged, never shown to the caller in detail. */
export class TokenError extends Error {
  override name = "TokenError";
  constructor(readonly reason: string) {
    super(reason);
  }
}

const ALLOWED_HEADER_MEMBERS = new Set(["alg", "typ", "kid"]);
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** Verifies a compact JWS as a token of `kind`, returning its claims or throwing `TokenError`. */
export async function verifyJwt(token: string, kind: TokenKind): Promise<JWTPayload> {
  if (!COMPACT_JWS.test(token)) throw new TokenError("malformed");
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    throw new TokenError("malformed_header");
  }
  for (const member of Object.keys(header)) {
    if (!ALLOWED_HEADER_MEMBERS.has(member)) throw new TokenError(`forbidden_header_${member}`);
  }
  if (header.typ !== kind.typ) throw new TokenError("wrong_typ");
  if (typeof header.kid !== "string") throw new TokenError("missing_kid");
  const key = kind.key(header.kid);
  if (!key) throw new TokenError("unknown_kid");
  if (header.alg !== key.alg) throw new TokenError("wrong_alg");
  try {
    const { payload } = await jwtVerify(token, key.key, {
      algorithms: [key.alg],
      issuer: kind.issuer,
      audience: kind.audience,
      typ: kind.typ,
      requiredClaims: ["iss", "aud", "exp", "iat", ...(kind.requiredClaims ?? [])],
    });
    return payload;
  } catch (error) {
    throw new TokenError((error as { code?: string }).code ?? "invalid");
  }
}

/** Signs claims as a compact JWS with exactly `alg`, `typ` and `kid` in the header. */
export function signJwt(
  claims: JWTPayload,
  signing: { alg: JwsAlgorithm; kid: string; key: CryptoKey | Uint8Array },
  typ: string,
): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: signing.alg, typ, kid: signing.kid }).sign(signing.key);
}
