import type { Context } from "hono";
import { recordWithReceiptHeader } from "../audit/receipt-header";
import type { AppEnv } from "../context";
import type { Database } from "../db/client";
import type { UserRow } from "../db/schema";
import { ApiError } from "../errors";
import { type AuthenticationMethod, withSecondFactor } from "../identity/authentication-methods";
import { startSession } from "../identity/sign-in";
import { findUserById } from "../identity/users";
import { admitLoginAttempt, forgetLoginFailures } from "./login-throttle";
import {
  acceptTotpStep,
  attemptMfaChallenge,
  completeMfaChallenge,
  createMfaChallenge,
  findTotp,
  hasConfirmedTotp,
  MFA_CHALLENGE_TTL_MS,
} from "./mfa-store";
import { countPasskeys } from "./passkey-store";
import { matchingTotpStep } from "./totp";

export type MfaMethod = "totp" | "recovery_code" | "passkey";

/**
 * What each second factor proves, in RFC 8176 values (src/identity/authentication-methods.ts). A
 * recovery code is a one-time password. A passkey as the second factor need not verify the user
 * (the password was the first), so it proves the key and the person's presence only.
 */
const SECOND_FACTOR_AMR: Record<MfaMethod, AuthenticationMethod[]> = {
  totp: ["otp"],
  recovery_code: ["otp"],
  passkey: ["hwk", "user"],
};

/** The second factors a user has: TOTP (with its recovery codes) and passkeys. Empty means one step. */
export async function mfaMethods(c: Context<AppEnv>, userId: string): Promise<MfaMethod[]> {
  const db = c.get("db");
  const [totp, passkeys] = await Promise.all([hasConfirmedTotp(db, userId), countPasskeys(db, userId)]);
  return [...(totp ? (["totp", "recovery_code"] as const) : []), ...(passkeys > 0 ? (["passkey"] as const) : [])];
}

/** A current code of the user's confirmed authenticator, accepted once: its step must be new (no replay). */
export async function acceptFreshTotpCode(db: Database, userId: string, code: string): Promise<boolean> {
  const totp = await findTotp(db, userId);
  if (!totp?.confirmedAt) return false;
  const step = matchingTotpStep(totp.secret, code);
  return step !== undefined && (await acceptTotpStep(db, userId, step));
}

/**
 * The first step's answer when MFA is on (a password, or a provider): a challenge, not tokens.
 * `firstAmr` is what that step proved, for the session the second step starts. The client's failed-login
 * count is deliberately not cleared here (only a completed second step clears it), so a known
 * password cannot be used to reset the lockout between guesses at the code.
 */
export async function mfaChallengeResponse(c: Context<AppEnv>, user: UserRow, methods: MfaMethod[], firstAmr: readonly string[]) {
  const mfaToken = await createMfaChallenge(c.get("db"), user.id, firstAmr);
  await c.get("audit").record({ type: "login.mfa_required", subject: user.id });
  return { mfaRequired: true as const, mfaToken, expiresIn: MFA_CHALLENGE_TTL_MS / 1000, methods };
}

const CHALLENGE_INVALID = "The MFA challenge is invalid, expired or used up; sign in again.";

/** Counts an attempt at an MFA challenge and answers its (enabled) user, or refuses with 401. */
export async function userOfMfaChallenge(c: Context<AppEnv>, mfaToken: string) {
  const challenge = await attemptMfaChallenge(c.get("db"), mfaToken);
  const user = challenge && (await findUserById(c.get("db"), challenge.userId));
  if (!challenge || !user || user.disabledAt !== null) throw new ApiError("invalid_token", CHALLENGE_INVALID);
  return { challenge, user };
}

/**
 * The second step of a login, whatever the factor: an attempt at the challenge, the login throttle
 * (shared with the password step), the factor's own check, the challenge used once, then a session
 * started exactly as a password login starts one, recording both steps.
 */
export async function finishMfaLogin(c: Context<AppEnv>, mfaToken: string, method: MfaMethod, accept: (user: UserRow) => Promise<boolean>) {
  const { challenge, user } = await userOfMfaChallenge(c, mfaToken);
  await admitLoginAttempt(c, user.email);
  if (!(await accept(user))) {
    await c.get("audit").record({ type: "login.failed", subject: user.id, details: { reason: `wrong_${method}` } });
    throw new ApiError("invalid_credentials", "The second factor is incorrect or was already used.");
  }
  if (!(await completeMfaChallenge(c.get("db"), challenge.challengeHash))) throw new ApiError("invalid_token", CHALLENGE_INVALID);
  await forgetLoginFailures(c, user.email);
  const body = await startSession(c, user, withSecondFactor(challenge.firstAmr, SECOND_FACTOR_AMR[method]));
  await recordWithReceiptHeader(c, { type: "login.succeeded", subject: user.id, details: { mfa: method } });
  return body;
}
