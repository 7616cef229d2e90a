import type { Context } from "hono";
import type { AppEnv } from "../context";
import { createMfaChallenge, MFA_CHALLENGE_TTL_MS } from "../db/mfa";
import type { UserRow } from "../db/schema";

/**
 * The password step's answer when MFA is on: a challenge, not tokens. The client's failed-login
 * count is deliberately not cleared here (only a completed second step clears it), so a known
 * password cannot be used to reset the lockout between guesses at the code.
 */
export async function mfaChallengeResponse(c: Context<AppEnv>, user: UserRow) {
  const mfaToken = await createMfaChallenge(c.get("db"), user.id);
  await c.get("audit").record({ type: "login.mfa_required", subject: user.id });
  return { mfaRequired: true as const, mfaToken, expiresIn: MFA_CHALLENGE_TTL_MS / 1000, methods: ["totp" as const, "recovery_code" as const] };
}
