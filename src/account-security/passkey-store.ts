import { and, asc, count, eq, gt, isNull, lt, or } from "drizzle-orm";
import type { Database } from "../db/client";
import { type PasskeyRow, passkeys, webauthnChallenges } from "../db/schema";

/** A WebAuthn ceremony lives 5 minutes (the options' timeout). */
export const WEBAUTHN_CHALLENGE_TTL_MS = 5 * 60 * 1000;

export type WebauthnChallengePurpose = (typeof webauthnChallenges.$inferSelect)["purpose"];

/** Keeps the challenge of options just generated; answers the id the client sends back with its response. */
export async function storeWebauthnChallenge(
  db: Database,
  purpose: WebauthnChallengePurpose,
  challenge: string,
  userId: string | null,
): Promise<string> {
  const id = crypto.randomUUID();
  const now = Date.now();
  await db
    .insert(webauthnChallenges)
    .values({ id, challenge, purpose, userId, createdAt: now, expiresAt: now + WEBAUTHN_CHALLENGE_TTL_MS });
  return id;
}

/**
 * Takes a live challenge of this purpose and owner out (once): the delete that returns it is the use.
 * `owner` is the user the ceremony was started for (null for a first-factor sign-in); someone else's
 * attempt matches no row, so it cannot use up the owner's challenge.
 */
export async function takeWebauthnChallenge(db: Database, id: string, purpose: WebauthnChallengePurpose, owner: string | null) {
  const [row] = await db
    .delete(webauthnChallenges)
    .where(
      and(
        eq(webauthnChallenges.id, id),
        eq(webauthnChallenges.purpose, purpose),
        owner === null ? isNull(webauthnChallenges.userId) : eq(webauthnChallenges.userId, owner),
        gt(webauthnChallenges.expiresAt, Date.now()),
      ),
    )
    .returning();
  return row;
}

export function listPasskeys(db: Database, userId: string): Promise<PasskeyRow[]> {
  return db.select().from(passkeys).where(eq(passkeys.userId, userId)).orderBy(asc(passkeys.createdAt)).all();
}

export async function countPasskeys(db: Database, userId: string): Promise<number> {
  const row = await db.select({ n: count() }).from(passkeys).where(eq(passkeys.userId, userId)).get();
  return row?.n ?? 0;
}

export function findPasskey(db: Database, id: string): Promise<PasskeyRow | undefined> {
  return db.select().from(passkeys).where(eq(passkeys.id, id)).get();
}

/** Stores a registered credential; false when that credential id is registered already. */
export async function insertPasskey(db: Database, row: Omit<PasskeyRow, "lastUsedAt">): Promise<boolean> {
  const inserted = await db.insert(passkeys).values(row).onConflictDoNothing().returning({ id: passkeys.id });
  return inserted.length === 1;
}

/**
 * Records an assertion's counter, only if it is still above the stored one (or both are 0, for
 * authenticators that do not count): of two assertions with one counter value only one is taken.
 */
export async function recordPasskeyUse(db: Database, id: string, previous: number, counter: number): Promise<boolean> {
  const updated = await db
    .update(passkeys)
    .set({ counter, lastUsedAt: Date.now() })
    .where(and(eq(passkeys.id, id), eq(passkeys.counter, previous), or(lt(passkeys.counter, counter), eq(passkeys.counter, 0))))
    .returning({ id: passkeys.id });
  return updated.length === 1;
}

/** Removes one of the user's passkeys; false when the user holds no such passkey. */
export async function deletePasskey(db: Database, userId: string, id: string): Promise<boolean> {
  const deleted = await db
    .delete(passkeys)
    .where(and(eq(passkeys.id, id), eq(passkeys.userId, userId)))
    .returning({ id: passkeys.id });
  return deleted.length === 1;
}
