import { toBase64Url, utf8 } from "../crypto/encoding";
import { signJwt, THUMBPRINT_KID, type TokenKind, verifyJwt } from "../crypto/jwt";
import type { OAuthClientRow, UserRow } from "../db/schema";
import type { Config } from "../env";
import { authenticationClaims, scopedClaims, scopeSet } from "./claims";
import type { OAuthSigningAlgorithm } from "./client-schemas";
import { oauthEndpoints } from "./endpoints";
import { activeSigningKey, oauthVerificationKey } from "./signing-keys";

/** RFC 9068 §2.1: the `typ` of a JWT access token. */
export const ACCESS_TOKEN_TYP = "at+jwt";
/** OIDC Core does not type ID tokens; `JWT` (RFC 7519 §5.1) keeps them apart from access tokens. */
export const ID_TOKEN_TYP = "JWT";

export interface AccessGrant {
  client: OAuthClientRow;
  /** The person, or for client_credentials the client itself. */
  subject: string;
  scope: string;
  resource: string;
  authTime?: number | undefined;
}

/**
 * An RFC 9068 access token: audience-bound (RFC 8707), short, with `client_id`, `scope` and `jti`.
 * A token that carries `openid` may also call userinfo, so userinfo is one more audience.
 */
export async function issueAccessToken(config: Config, grant: AccessGrant): Promise<{ token: string; expiresIn: number }> {
  const now = Math.floor(Date.now() / 1000);
  const expiresIn = grant.client.accessTokenTtlSeconds;
  const userinfo = oauthEndpoints(config).userinfo;
  const audiences = scopeSet(grant.scope).has("openid") && grant.resource !== userinfo ? [grant.resource, userinfo] : grant.resource;
  const claims = {
    iss: config.issuer,
    sub: grant.subject,
    aud: audiences,
    client_id: grant.client.id,
    scope: grant.scope,
    iat: now,
    exp: now + expiresIn,
    jti: crypto.randomUUID(),
    ...(grant.authTime !== undefined ? { auth_time: grant.authTime } : {}),
  };
  const key = await activeSigningKey(config, grant.client.accessTokenSignedResponseAlg as OAuthSigningAlgorithm);
  return { token: await signJwt(claims, key, ACCESS_TOKEN_TYP), expiresIn };
}

/**
 * OIDC Core §3.1.3.6: `at_hash` is the left half of the hash of the access token, with the hash of
 * the ID token's algorithm: SHA-256 for RS256 and ES256, SHA-512 for EdDSA with Ed25519.
 */
async function accessTokenHash(accessToken: string, alg: OAuthSigningAlgorithm): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest(alg === "EdDSA" ? "SHA-512" : "SHA-256", utf8(accessToken)));
  return toBase64Url(digest.slice(0, digest.length / 2));
}

export interface IdentityGrant {
  client: OAuthClientRow;
  user: UserRow;
  scope: string;
  authTime: number;
  /** How the person signed in (RFC 8176), as the session recorded it when the code was issued. */
  amr: readonly string[];
  nonce?: string | null | undefined;
  accessToken: string;
}

/** An ID token (OIDC Core §2): who signed in, when and how, for which client, with the claims the scopes allow. */
export async function issueIdToken(config: Config, grant: IdentityGrant): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const alg = grant.client.idTokenSignedResponseAlg as OAuthSigningAlgorithm;
  const claims = {
    iss: config.issuer,
    sub: grant.user.id,
    aud: grant.client.id,
    iat: now,
    exp: now + grant.client.idTokenTtlSeconds,
    auth_time: grant.authTime,
    ...authenticationClaims(grant.amr),
    ...(grant.nonce ? { nonce: grant.nonce } : {}),
    at_hash: await accessTokenHash(grant.accessToken, alg),
    ...scopedClaims(grant.user, scopeSet(grant.scope)),
  };
  return signJwt(claims, await activeSigningKey(config, alg), ID_TOKEN_TYP);
}

/** How this provider's own tokens are verified (userinfo, introspection, logout's id_token_hint): by our keys only. */
export function ownTokenKind(config: Config, typ: string, audience: string): TokenKind {
  return {
    typ,
    issuer: config.issuer,
    audience,
    kidPattern: THUMBPRINT_KID,
    key: (kid) => oauthVerificationKey(config, kid),
    requiredClaims: ["sub"],
  };
}

export { verifyJwt as verifyOwnToken };
