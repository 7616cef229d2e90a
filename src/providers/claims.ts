import type { ProviderProfile } from "./definition";

/** A claim as a non-empty string, or undefined. Numbers (some APIs send numeric ids) become strings. */
export function stringClaim(value: unknown): string | undefined {
  if (typeof value === "number" && Number.isSafeInteger(value)) return String(value);
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** A verification flag: only a literal `true` (or Apple's string "true", or 1) counts. */
export function trueClaim(value: unknown): boolean {
  return value === true || value === "true" || value === 1;
}

/** The subject, refusing a profile that has none: without a stable id there is nothing to link. */
export function requireSubject(value: unknown): string {
  const subject = stringClaim(value);
  if (!subject) throw new TypeError("the provider returned no user id");
  return subject;
}

/** The standard OIDC claims (`sub`, `email`, `email_verified`, `name`). */
export function standardClaimsProfile(claims: Record<string, unknown>): ProviderProfile {
  return {
    subject: requireSubject(claims.sub),
    email: stringClaim(claims.email),
    emailVerified: trueClaim(claims.email_verified),
    name: stringClaim(claims.name) ?? stringClaim(claims.preferred_username),
  };
}

/** From a list of addresses (GitHub, Bitbucket), the primary one if it is verified, else none. */
export function primaryVerifiedEmail(
  entries: unknown,
  read: (entry: any) => { email: unknown; primary: unknown; verified: unknown },
): { email?: string; emailVerified: boolean } {
  if (!Array.isArray(entries)) return { emailVerified: false };
  for (const entry of entries) {
    const { email, primary, verified } = read(entry);
    if (primary === true && verified === true && stringClaim(email)) return { email: stringClaim(email)!, emailVerified: true };
  }
  return { emailVerified: false };
}
