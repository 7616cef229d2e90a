import { and, eq, gt, isNotNull, isNull, lt, or, sql } from "drizzle-orm";
import { sha256Hex } from "../crypto/digest";
import { randomBase64Url, randomBytes } from "../crypto/random";
import type { Database } from "../db/client";
import { mfaChallenges, recoveryCodes, totpCredentials } from "../db/schema";

export type TotpRow = typeof totpCredentials.$inferSelect;

/** The user's TOTP authenticator, confirmed or not. */
export function findTotp(db: Database, userId: string): Promise<TotpRow | undefined> {
  return db.select().from(totpCredentials).where(eq(totpCredentials.userId, userId)).get();
}

/** Whether login needs a second step for this user. */
export async function hasConfirmedTotp(db: Database, userId: string): Promise<boolean> {
  const row = await db
    .select({ userId: totpCredentials.userId })
    .from(totpCredentials)
    .where(and(eq(totpCredentials.userId, userId), isNotNull(totpCredentials.confirmedAt)))
    .get();
  return row !== undefined;
}

/** Starts (or restarts) an enrolment with a new secret, unless a confirmed authenticator exists. False then. */
export async function startTotpEnrolment(db: Database, userId: string, secret: string): Promise<boolean> {
  const now = Date.now();
  const written = await db
    .insert(totpCredentials)
    .values({ userId, secret, createdAt: now })
    .onConflictDoUpdate({
      target: totpCredentials.userId,
      set: { secret, createdAt: now, lastUsedStep: null },
      setWhere: isNull(totpCredentials.confirmedAt),
    })
    .returning({ userId: totpCredentials.userId });
  return written.length === 1;
}

/**
 * Accepts a code's time step once: only if it is later than the last accepted step, in one
 * conditional update, so a code (or an earlier one) never works twice, even concurrently.
 * `confirming` also confirms a pending enrolment; otherwise the authenticator must be confirmed.
 */
export async function acceptTotpStep(db: Database, userId: string, step: number, confirming = false): Promise<boolean> {
  const accepted = await db
    .update(totpCredentials)
    .set(confirming ? { lastUsedStep: step, confirmedAt: Date.now() } : { lastUsedStep: step })
    .where(
      and(
        eq(totpCredentials.userId, userId),
        confirming ? isNull(totpCredentials.confirmedAt) : isNotNull(totpCredentials.confirmedAt),
        or(isNull(totpCredentials.lastUsedStep), lt(totpCredentials.lastUsedStep, step)),
      ),
    )
    .returning({ userId: totpCredentials.userId });
  return accepted.length === 1;
}

/** Removes the authenticator and every recovery code: MFA off. */
export async function deleteTotp(db: Database, userId: string): Promise<void> {
  await db.batch([
    db.delete(recoveryCodes).where(eq(recoveryCodes.userId, userId)),
    db.delete(totpCredentials).where(eq(totpCredentials.userId, userId)),
  ]);
}

/** Ten recovery codes per enrolment. */
export const RECOVERY_CODE_COUNT = 10;
// Crockford's base32: 32 symbols (so a byte maps without bias), no i, l, o or u to misread.
const RECOVERY_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

/** One code: 10 characters (50 bits), shown as `xxxxx-xxxxx`. */
function newRecoveryCode(): string {
  const characters = [...randomBytes(10)].map((byte) => RECOVERY_ALPHABET[byte % 32]);
  return `${characters.slice(0, 5).join("")}-${characters.slice(5).join("")}`;
}

/** The form a code is hashed in: lower case, without the dash or spaces people add. */
export function normalizeRecoveryCode(code: string): string {
  return code.toLowerCase().replace(/[\s-]/g, "");
}

/** Replaces every recovery code of the user with ten new ones; returns them (the only time they exist in clear). */
export async function replaceRecoveryCodes(db: Database, userId: string): Promise<string[]> {
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
  const now = Date.now();
  const rows = await Promise.all(
    codes.map(async (code) => ({ codeHash: await sha256Hex(normalizeRecoveryCode(code)), userId, createdAt: now })),
  );
  await db.batch([db.delete(recoveryCodes).where(eq(recoveryCodes.userId, userId)), db.insert(recoveryCodes).values(rows)]);
  return codes;
}

/** Uses a recovery code once (a conditional update); false when it is not one of the user's unused codes. */
export async function useRecoveryCode(db: Database, userId: string, code: string): Promise<boolean> {
  const used = await db
    .update(recoveryCodes)
    .set({ usedAt: Date.now() })
    .where(
      and(
        eq(recoveryCodes.userId, userId),
        eq(recoveryCodes.codeHash, await sha256Hex(normalizeRecoveryCode(code))),
        isNull(recoveryCodes.usedAt),
      ),
    )
    .returning({ codeHash: recoveryCodes.codeHash });
  return used.length === 1;
}

/** How many unused recovery codes the user has left. */
export async function remainingRecoveryCodes(db: Database, userId: string): Promise<number> {
  const row = await db
    .select({ n: sql<number>`count(*)` })
    .from(recoveryCodes)
    .where(and(eq(recoveryCodes.userId, userId), isNull(recoveryCodes.usedAt)))
    .get();
  return row?.n ?? 0;
}

/** An MFA challenge lives 5 minutes and allows 5 wrong codes. */
export const MFA_CHALLENGE_TTL_MS = 5 * 60 * 1000;
export const MFA_CHALLENGE_MAX_ATTEMPTS = 5;
export const MFA_CHALLENGE_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** Creates the challenge the first step answers with, noting what it proved (`firstAmr`); only its SHA-256 is stored. */
export async function createMfaChallenge(db: Database, userId: string, firstAmr: readonly string[]): Promise<string> {
  const challenge = randomBase64Url(32);
  const now = Date.now();
  await db.insert(mfaChallenges).values({
    challengeHash: await sha256Hex(challenge),
    userId,
    firstAmr: [...firstAmr],
    createdAt: now,
    expiresAt: now + MFA_CHALLENGE_TTL_MS,
  });
  return challenge;
}

/**
 * Counts one attempt at a challenge and answers whose it is, while it is unused, unexpired and has
 * attempts left; undefined otherwise (which is also what an unknown challenge gets).
 */
export async function attemptMfaChallenge(
  db: Database,
  challenge: string,
): Promise<{ challengeHash: string; userId: string; firstAmr: string[] } | undefined> {
  if (!MFA_CHALLENGE_PATTERN.test(challenge)) return undefined;
  const challengeHash = await sha256Hex(challenge);
  const [row] = await db
    .update(mfaChallenges)
    .set({ attempts: sql`${mfaChallenges.attempts} + 1` })
    .where(
      and(
        eq(mfaChallenges.challengeHash, challengeHash),
        isNull(mfaChallenges.usedAt),
        gt(mfaChallenges.expiresAt, Date.now()),
        lt(mfaChallenges.attempts, MFA_CHALLENGE_MAX_ATTEMPTS),
      ),
    )
    .returning({ userId: mfaChallenges.userId, firstAmr: mfaChallenges.firstAmr });
  return row ? { challengeHash, ...row } : undefined;
}

/** Uses a challenge once, after its code was right; false when it was used or expired meanwhile. */
export async function completeMfaChallenge(db: Database, challengeHash: string): Promise<boolean> {
  const now = Date.now();
  const done = await db
    .update(mfaChallenges)
    .set({ usedAt: now })
    .where(and(eq(mfaChallenges.challengeHash, challengeHash), isNull(mfaChallenges.usedAt), gt(mfaChallenges.expiresAt, now)))
    .returning({ userId: mfaChallenges.userId });
  return done.length === 1;
}
