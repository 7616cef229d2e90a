import { and, asc, eq, lte, sql } from "drizzle-orm";
import type { Preferences } from "../schemas/preferences";
import type { Database } from "./client";
import { pendingMemoryPreferences, type PendingMemoryPreferencesRow } from "./schema";

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
  return db.select().from(pendingMemoryPreferences).where(eq(pendingMemoryPreferences.userId, userId)).orderBy(asc(pendingMemoryPreferences.id));
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

/** Users with patches waiting, oldest patch first, for the cron's retry. */
export async function usersWithPendingPreferences(db: Database, limit: number): Promise<string[]> {
  const rows = await db
    .select({ userId: pendingMemoryPreferences.userId })
    .from(pendingMemoryPreferences)
    .groupBy(pendingMemoryPreferences.userId)
    .orderBy(sql`min(${pendingMemoryPreferences.id})`)
    .limit(limit);
  return rows.map((row) => row.userId);
}
