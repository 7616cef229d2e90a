import { sha256Hex } from "../crypto/digest";
import { fromBase64Url } from "../crypto/encoding";
import { verificationKeyFromJwk } from "../crypto/jwk";
import { peekHeader, TokenError, verifyJwt } from "../crypto/jwt";
import type { Database } from "../db/client";
import { type OAuthClientRow, oauthAssertionJtis } from "../db/schema";

/** What a client may sign its assertion with: our three, and RFC 9864's `Ed25519` for clients that name it so. */
export const ASSERTION_SIGNING_ALGORITHMS = ["RS256", "ES256", "EdDSA", "Ed25519"] as const;

export const JWT_BEARER_ASSERTION = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/** A client's own `kid`: any printable ASCII, bounded, checked before any key is looked up. */
const CLIENT_KID = /^[\x21-\x7e]{1,128}$/;
/** An assertion proves one request; five minutes covers clock skew and a retry, and bounds the jti table. */
const MAX_ASSERTION_LIFETIME_SECONDS = 300;

/** The unverified `iss` of an assertion: only to find which client's keys to verify it with. */
export function assertionIssuer(assertion: string): string | undefined {
  const payload = assertion.split(".")[1];
  if (!payload || !peekHeader(assertion)) return undefined;
  try {
    const claims = JSON.parse(new TextDecoder().decode(fromBase64Url(payload)));
    return typeof claims?.iss === "string" ? claims.iss : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Verifies a `private_key_jwt` assertion (RFC 7523 §3, OIDC Core §9): signed by one of the client's
 * registered keys (inline `jwks`), `iss` and `sub` the client id, `aud` this issuer or the token
 * endpoint, short-lived, and its `jti` seen once (recorded in D1 until it expires). True when it
 * proves the client.
 */
export async function verifyClientAssertion(
  db: Database,
  client: OAuthClientRow,
  assertion: string,
  audiences: { issuer: string; tokenEndpoint: string },
): Promise<boolean> {
  const keys = client.jwks?.keys ?? [];
  let claims: Awaited<ReturnType<typeof verifyJwt>>;
  try {
    const audience = await audienceOf(assertion, audiences);
    claims = await verifyJwt(assertion, {
      typ: "JWT",
      typOptional: true,
      issuer: client.id,
      audience,
      kidPattern: CLIENT_KID,
      key: async (kid) => {
        const jwk = keys.find((candidate) => candidate.kid === kid);
        return jwk ? verificationKeyFromJwk(jwk) : undefined;
      },
      requiredClaims: ["sub", "jti"],
      maxLifetimeSeconds: MAX_ASSERTION_LIFETIME_SECONDS,
    });
  } catch (error) {
    if (error instanceof TokenError) return false;
    throw error;
  }
  if (claims.sub !== client.id || typeof claims.jti !== "string" || claims.jti.length === 0 || claims.jti.length > 256) return false;
  const inserted = await db
    .insert(oauthAssertionJtis)
    .values({ jtiHash: await sha256Hex(`${client.id} ${claims.jti}`), expiresAt: claims.exp * 1000 })
    .onConflictDoNothing()
    .returning({ jtiHash: oauthAssertionJtis.jtiHash });
  return inserted.length === 1;
}

/** RFC 7523 §3: `aud` identifies the server; the issuer and the token endpoint's URL both do. */
async function audienceOf(assertion: string, audiences: { issuer: string; tokenEndpoint: string }): Promise<string> {
  const payload = assertion.split(".")[1] ?? "";
  try {
    const { aud } = JSON.parse(new TextDecoder().decode(fromBase64Url(payload)));
    const named = Array.isArray(aud) ? aud : [aud];
    return named.includes(audiences.tokenEndpoint) ? audiences.tokenEndpoint : audiences.issuer;
  } catch {
    return audiences.issuer;
  }
}
