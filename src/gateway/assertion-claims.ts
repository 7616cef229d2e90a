/**
 * The contract between the gateway and its origins: the `X-Heady-Assertion` header, a compact JWS
 * (EdDSA, `typ: assertion+jwt`) that says who the caller is and what the gateway checked. Shared by
 * the signer (src/gateway/assertion.ts) and the origins' verifier (src/clients/origin/verify-assertion.ts).
 */

export const ASSERTION_HEADER = "X-Heady-Assertion";
export const ASSERTION_TYP = "assertion+jwt";
/** Long enough for one hop to the origin, short enough that a leaked assertion is soon worthless. */
export const ASSERTION_LIFETIME_SECONDS = 60;
/**
 * The member that marks the assertion key in the JWKS, so an origin trusts that key alone and
 * not, say, the Ed25519 receipt key published beside it (one key per token kind, RFC 8725).
 */
export const ASSERTION_JWK_MARKER = { token_typ: ASSERTION_TYP } as const;

/** Which credential the gateway verified: `none` on public routes, `mtls` for a client certificate alone. */
export type AssertedCredential = "access_token" | "session_cookie" | "api_key" | "pqc_token" | "mtls" | "none";

export interface AssertionClaims {
  /** The gateway's issuer (`ISSUER`). */
  iss: string;
  /** The origin the request was forwarded to (`https://repos.example.com`); an assertion is good for that origin only. */
  aud: string;
  /** The caller: a user id, or `cert:<x5t#S256>` for a certificate alone; absent on public routes. */
  sub?: string;
  /** The caller's role, when the credential carries one. */
  role?: string;
  cred: AssertedCredential;
  /** The requirement the gateway checked, e.g. `pqc:production/clone`, `jwt:operator`, `public`. */
  req: string;
  /** The request's method and target (origin + path, no query), as DPoP's `htm`/`htu` (RFC 9449): not replayable elsewhere. */
  htm: string;
  htu: string;
  /** The gateway's request id (also its `X-Request-Id`), unique per request. */
  jti: string;
  iat: number;
  exp: number;
  /** API keys: the key's scopes. */
  scopes?: string[];
  /** PQC tokens: what the token was issued for. */
  service?: string;
  operation?: string;
  permissions?: string[];
  /** mTLS: the certificate's SHA-256 thumbprint (RFC 8705). */
  cnf?: { "x5t#S256": string };
}
