import { createTOTPKeyURI, verifyHOTP } from "@oslojs/otp";
import { fromBase64Url } from "../crypto/encoding";
import { randomBase64Url } from "../crypto/random";

/** RFC 6238 as every authenticator app speaks it: HMAC-SHA1, 30-second steps, 6 digits. */
export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
/** Codes of the step before and after the current one are accepted too (clock drift, typing time). */
export const TOTP_WINDOW_STEPS = 1;
/** 160 bits, RFC 4226's recommended secret length. */
const TOTP_SECRET_BYTES = 20;

export const TOTP_CODE_PATTERN = /^\d{6}$/;

/** A fresh shared secret, as stored (base64url). */
export function newTotpSecret(): string {
  return randomBase64Url(TOTP_SECRET_BYTES);
}

/** The QR-ready `otpauth://totp/…` URI for an authenticator app. */
export function totpUri(issuerName: string, accountName: string, secret: string): string {
  return createTOTPKeyURI(issuerName, accountName, fromBase64Url(secret), TOTP_PERIOD_SECONDS, TOTP_DIGITS);
}

/** The secret in base32, for typing into an app by hand: the URI's own `secret` parameter. */
export function totpManualKey(uri: string): string {
  return new URL(uri).searchParams.get("secret") ?? "";
}

/** The time step a code belongs to, within ±TOTP_WINDOW_STEPS of now; undefined when it matches none. */
export function matchingTotpStep(secret: string, code: string, now = Date.now()): number | undefined {
  if (!TOTP_CODE_PATTERN.test(code)) return undefined;
  const key = fromBase64Url(secret);
  const current = Math.floor(now / (TOTP_PERIOD_SECONDS * 1000));
  for (let step = current - TOTP_WINDOW_STEPS; step <= current + TOTP_WINDOW_STEPS; step++) {
    if (verifyHOTP(key, BigInt(step), TOTP_DIGITS, code)) return step;
  }
  return undefined;
}
