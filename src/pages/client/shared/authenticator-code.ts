/**
 * Six digits are a code from the person's authenticator app (TOTP); anything else typed in the same
 * field is the other secret it takes (a recovery code at sign-in, the password when confirming it's you).
 */
export function isAuthenticatorCode(text: string): boolean {
  return /^[0-9]{6}$/.test(text);
}
