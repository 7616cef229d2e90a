import { and, asc, eq, lte, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { type PendingMemoryPreferencesRow, pendingMemoryPreferences } from "../db/schema";
import type { Preferences } from "./preference-schemas";

/** Records a preferences patch on its way to user memory; its id orders it after every earlier one. */
export async function recordPendingPreferences(db: Database, userId: string, patch: Preferences): Promise<number> {
  const [row] = await db
    .insert(pendingMemoryPreferences)
    .values({ userId, patch, createdAt: Date.now() })
    .returning({ id: pendingMemoryPreferences.id });
  return row!.id;
}

/** The user's pending patches, oldest first. */
export function listPendingPreferences(db: Database, userId: string): Promise<PendingMemoryPreferencesRow[]> {
  return db
    .select()
    .from(pendingMemoryPreferences)
    .where(eq(pendingMemoryPreferences.userId, userId))
    .orderBy(asc(pendingMemoryPreferences.id));
}

/** Whether the user has any patch waiting (one indexed read). */
export async function hasPendingPreferences(db: Database, userId: string): Promise<boolean> {
  const [row] = await db
    .select({ id: pendingMemoryPreferences.id })
    .from(pendingMemoryPreferences)
    .where(eq(pendingMemoryPreferences.userId, userId))
    .limit(1);
  return row !== undefined;
}

/** Deletes the user's patches up to and including `id`, once memory holds them. */
export async function clearPendingPreferences(db: Database, userId: string, id: number): Promise<void> {
  await db.delete(pendingMemoryPreferences).where(and(eq(pendingMemoryPreferences.userId, userId), lte(pendingMemoryPreferences.id, id)));
}

/** Deletes one patch (a write that answered with an error must not be applied later). */
export async function discardPendingPreferences(db: Database, id: number): Promise<void> {
  await db.delete(pendingMemoryPreferences).where(eq(pendingMemoryPreferences.id, id));
}

/** Notes that applying the user's patches failed now, which sends the user to the back of the cron's queue. */
export async function markPendingPreferencesFailed(db: Database, userId: string, now = Date.now()): Promise<void> {
  await db.update(pendingMemoryPreferences).set({ lastAttemptAt: now }).where(eq(pendingMemoryPreferences.userId, userId));
}

/**
 * Users with patches waiting, for the cron's retry: those never failed first, oldest patch first,
 * then those whose last failure is oldest, so users whose patches keep failing cannot take every
 * run's places from the rest.
 */
export async function usersWithPendingPreferences(db: Database, limit: number): Promise<string[]> {
  const rows = await db
    .select({ userId: pendingMemoryPreferences.userId })
    .from(pendingMemoryPreferences)
    .groupBy(pendingMemoryPreferences.userId)
    .orderBy(sql`coalesce(max(${pendingMemoryPreferences.lastAttemptAt}), 0)`, sql`min(${pendingMemoryPreferences.id})`)
    .limit(limit);
  return rows.map((row) => row.userId);
}
