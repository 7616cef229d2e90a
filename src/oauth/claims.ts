import type { UserRow } from "../db/schema";
import { isEmailVerified } from "../identity/users";

/** Every claim an ID token or userinfo may carry (discovery's `claims_supported`). */
export const CLAIMS_SUPPORTED = [
  "sub",
  "iss",
  "aud",
  "exp",
  "iat",
  "auth_time",
  "acr",
  "amr",
  "nonce",
  "at_hash",
  "name",
  "email",
  "email_verified",
] as const;

/**
 * The `acr` values this provider issues: HeadyKey's own two levels, since OIDC registers none that
 * says "a second factor was proved" (docs/oauth.md, "Tokens"). `2fa` when `amr` has `mfa`.
 */
export const ACR_VALUES = ["urn:heady:acr:1fa", "urn:heady:acr:2fa"] as const;

/**
 * How the person signed in (OIDC Core §2): `amr` as the session recorded it, only when it names
 * something, and `acr`. Every session took at least one proof, so one that records nothing (a
 * provider sign-in, or one older than the record) is `1fa`.
 */
export function authenticationClaims(amr: readonly string[]): { acr: (typeof ACR_VALUES)[number]; amr?: string[] } {
  const acr = amr.includes("mfa") ? ACR_VALUES[1] : ACR_VALUES[0];
  return amr.length > 0 ? { acr, amr: [...amr] } : { acr };
}

/** The person's claims that `scope` allows (OIDC Core §5.4): `profile` gives the name, `email` the address and whether it was verified. */
export function scopedClaims(user: UserRow, scopes: ReadonlySet<string>): Record<string, unknown> {
  const claims: Record<string, unknown> = {};
  if (scopes.has("profile") && user.displayName) claims.name = user.displayName;
  if (scopes.has("email")) {
    claims.email = user.email;
    claims.email_verified = isEmailVerified(user);
  }
  return claims;
}

export function scopeSet(scope: string): Set<string> {
  return new Set(scope.split(" ").filter(Boolean));
}

/** A scope set in one canonical spelling (sorted, single spaces), so consent is remembered per set, not per ordering. */
export function canonicalScope(scopes: Iterable<string>): string {
  return [...new Set(scopes)].sort().join(" ");
}
