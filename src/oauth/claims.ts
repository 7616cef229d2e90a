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
  "nonce",
  "at_hash",
  "name",
  "email",
  "email_verified",
] as const;

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
