/**
 * How a person proved who they are, in RFC 8176 values (the IANA "Authentication Method Reference
 * Values" registry): what a session records at sign-in and the ID token carries as `amr`.
 *
 * - `pwd`: the account's password.
 * - `otp`: a one-time password: a TOTP code (RFC 6238), or a recovery code, which is one too (a
 *   password usable once, RFC 4949); `kba` would be wrong, it means knowledge-based questions.
 * - `hwk`: a passkey, the proof of possession of a key kept by an authenticator.
 * - `user`: the user-presence test every WebAuthn assertion passes (RFC 8176 cites WebAuthn's). Which
 *   user verification the authenticator did (PIN or biometric) is not told, so no `pin` or `fpt`.
 * - `mfa`: more than one factor: a second step after the first, or a passkey with user verification.
 *
 * A provider sign-in claims nothing: the registry has no value for federation, and the provider's
 * own `amr` (if any) is about its sign-in, which HeadyKey did not see.
 */
export type AuthenticationMethod = "pwd" | "otp" | "hwk" | "user" | "mfa";

export const PASSWORD_SIGN_IN: AuthenticationMethod[] = ["pwd"];
/** A passkey alone, with user verification required: two factors in one. */
export const PASSKEY_SIGN_IN: AuthenticationMethod[] = ["hwk", "user", "mfa"];
/** A provider sign-in: nothing HeadyKey can name (see above). */
export const PROVIDER_SIGN_IN: AuthenticationMethod[] = [];

/** A sign-in of two steps: what the first proved, what the second proved, and `mfa`. */
export function withSecondFactor(first: readonly string[], second: readonly AuthenticationMethod[]): string[] {
  return [...new Set([...first, ...second, "mfa"])];
}
