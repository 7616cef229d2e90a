import { ApiError } from "../errors";
import { COMMON_PASSWORDS_TEXT } from "./common-passwords";

/** ASVS 5 (6.2.1, 6.2.9): at least 8 characters, and at least 64 must be accepted. */
export const PASSWORD_MIN_CHARACTERS = 8;
/** A cap well above ASVS's 64 that stops megabyte "passwords" from being hashed. Nothing is truncated. */
export const PASSWORD_MAX_CHARACTERS = 256;

/** An unpaired UTF-16 surrogate: UTF-8 encoding would turn it into U+FFFD and merge distinct passwords. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** True when the text is well-formed UTF-16, i.e. survives UTF-8 encoding unchanged. */
export function isWellFormedText(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}

let commonPasswords: Set<string> | undefined;
function isCommonPassword(normalised: string): boolean {
  commonPasswords ??= new Set(COMMON_PASSWORDS_TEXT.split("\n"));
  return commonPasswords.has(normalised);
}

/** Words a person would try first against this account (ASVS 6.2.11). */
function contextWords(email: string): string[] {
  const local = email.split("@")[0] ?? "";
  return ["heady", "headykey", local].filter((word) => word.length >= 4);
}

/**
 * Enforces the password rules: length in Unicode code points, no composition rules,
 * the 3,000 most common passwords and context words refused. Throws `weak_password`.
 */
export function assertAcceptablePassword(password: string, email: string): void {
  const normalised = password.normalize("NFKC");
  const length = [...normalised].length;
  if (length < PASSWORD_MIN_CHARACTERS) {
    throw new ApiError("weak_password", `Password must be at least ${PASSWORD_MIN_CHARACTERS} characters.`);
  }
  if (length > PASSWORD_MAX_CHARACTERS) {
    throw new ApiError("weak_password", `Password may be at most ${PASSWORD_MAX_CHARACTERS} characters.`);
  }
  const lower = normalised.toLowerCase();
  if (isCommonPassword(lower)) {
    throw new ApiError("weak_password", "This password is among the most commonly used passwords; choose another.");
  }
  if (contextWords(email.toLowerCase()).some((word) => lower.includes(word))) {
    throw new ApiError("weak_password", "Password must not be derived from your email address or the service name.");
  }
}
