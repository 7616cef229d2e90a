import { sha256Hex } from "../crypto/digest";
import { hs256Key } from "../crypto/hmac";
import { type SigningKey, signJwt, TokenError, type VerificationKey, verifyJwt } from "../crypto/jwt";
import type { Config } from "../env";
import { isRole, type Role } from "../identity/roles";

/** Access tokens: HS256 JWTs, `typ: at+jwt` (RFC 9068), keyed by `JWT_SECRET`. */
export const ACCESS_TOKEN_TYP = "at+jwt";

export interface AccessTokenSubject {
  userId: string;
  email: string;
  role: Role;
  sessionId: string;
  /** Carried as the OIDC standard claim `email_verified`; absent means not verified. */
  emailVerified?: boolean;
}

export interface AccessClaims extends AccessTokenSubject {
  jti: string;
  expiresAt: number;
}

// Shared across requests as a promise: safe, since it waits on WebCrypto only, no I/O (src/platform/single-flight.ts says why I/O differs).
const keys = new Map<string, Promise<SigningKey & VerificationKey>>();

/** `at-` and 16 hex digits of a digest of the secret (see `accessKey`). */
const ACCESS_TOKEN_KID = /^at-[0-9a-f]{16}$/;

/**
 * The HS256 key for a secret, imported once per isolate. Its `kid` is derived from the
 * secret, so rotating `JWT_SECRET` changes the `kid` and old tokens fail on an exact-`kid` miss.
 */
function accessKey(secret: string): Promise<SigningKey & VerificationKey> {
  let key = keys.get(secret);
  if (!key) {
    key = sha256Hex(`headykey:access-token-kid:${secret}`).then((digest) => hs256Key(`at-${digest.slice(0, 16)}`, secret));
    keys.set(secret, key);
  }
  return key;
}

/** Issues an access token for a signed-in session. */
export async function issueAccessToken(config: Config, subject: AccessTokenSubject): Promise<{ token: string; expiresIn: number }> {
  const now = Math.floor(Date.now() / 1000);
  const token = await signJwt(
    {
      iss: config.issuer,
      aud: config.accessTokenAudience,
      sub: subject.userId,
      email: subject.email,
      email_verified: subject.emailVerified === true,
      role: subject.role,
      sid: subject.sessionId,
      jti: crypto.randomUUID(),
      iat: now,
      exp: now + config.accessTokenTtlSeconds,
    },
    await accessKey(config.jwtSecret),
    ACCESS_TOKEN_TYP,
  );
  return { token, expiresIn: config.accessTokenTtlSeconds };
}

/** Verifies an access token's signature and claims (not its session; see `authenticate`). */
export async function verifyAccessToken(config: Config, token: string): Promise<AccessClaims> {
  const key = await accessKey(config.jwtSecret);
  const claims = await verifyJwt(token, {
    typ: ACCESS_TOKEN_TYP,
    issuer: config.issuer,
    audience: config.accessTokenAudience,
    kidPattern: ACCESS_TOKEN_KID,
    key: (kid) => (kid === key.kid ? key : undefined),
    requiredClaims: ["sub", "role", "sid", "jti"],
  });
  const { sub, email, email_verified, role, sid, jti, exp } = claims;
  if (typeof sub !== "string" || typeof sid !== "string" || typeof jti !== "string" || !isRole(role)) {
    throw new TokenError("bad_claims");
  }
  return {
    userId: sub,
    email: typeof email === "string" ? email : "",
    emailVerified: email_verified === true,
    role,
    sessionId: sid,
    jti,
    expiresAt: exp,
  };
}
