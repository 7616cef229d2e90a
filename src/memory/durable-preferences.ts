import type { Database } from "../db/client";
import { database } from "../db/client";
import {
  clearPendingPreferences,
  hasPendingPreferences,
  listPendingPreferences,
  recordPendingPreferences,
  usersWithPendingPreferences,
} from "../db/pending-memory-preferences";
import type { Bindings } from "../env";
import { unavailableCause } from "../errors";
import type { Preferences } from "../schemas/preferences";
import { openMemory, type Memory } from "./open";
import { preferencesText } from "./preferences-text";
import type { MemoryItem } from "./store";

/**
 * Preference writes that survive a memory store outage. Every patch is recorded in D1
 * (pending_memory_preferences) before memory is touched, and deleted only once memory holds it.
 * Applying reads the user's pending patches inside the store's per-user lock and merges them, in
 * id order, over the stored preferences: the pending set only ever loses its oldest rows, so a
 * patch applied twice (two appliers racing) gives the same result as once.
 */

/**
 * Merges the user's pending patches into memory and clears them; null if none were pending.
 * Throws (an `UnavailableError`) when the store is down; the patches then stay for the next try.
 */
export async function applyPendingPreferences(db: Database, memory: Memory, userId: string): Promise<MemoryItem | null> {
  let appliedUpTo: number | undefined;
  const updated = await memory.store.updatePreferences(userId, async (current) => {
    const pending = await listPendingPreferences(db, userId);
    if (pending.length === 0) return null;
    appliedUpTo = pending.at(-1)!.id;
    const preferences: Preferences = Object.assign({}, current, ...pending.map((row) => row.patch));
    const content = preferencesText(preferences);
    const [vector] = await memory.embedder.embed([content]);
    return { preferences, content, embedding: { vector: vector!, model: memory.embedder.model } };
  });
  if (appliedUpTo !== undefined) await clearPendingPreferences(db, userId, appliedUpTo);
  return updated;
}

/** Applies the user's pending patches if there are any (the retry on their next memory request). */
export async function retryPendingPreferencesFor(db: Database, memory: Memory, userId: string): Promise<void> {
  if (await hasPendingPreferences(db, userId)) await applyPendingPreferences(db, memory, userId);
}

/**
 * Saves a preferences patch for onboarding: recorded in D1 at once (so the stage completes even
 * with memory down), then written to memory in the background; on failure it stays pending and is
 * retried by the maintenance cron and on the user's next memory request.
 */
export async function savePreferencesDurably(
  env: Bindings,
  waitUntil: (promise: Promise<unknown>) => void,
  userId: string,
  patch: Preferences,
): Promise<void> {
  const db = database(env.DB);
  await recordPendingPreferences(db, userId, patch);
  waitUntil(
    applyPendingPreferences(db, openMemory(env), userId).catch((error: unknown) => {
      console.warn(JSON.stringify({ msg: "memory preferences kept pending", userId, error: String(error) }));
    }),
  );
}

/** Users retried per cron run; the rest wait for the next run (or their own next request). */
export const PENDING_PREFERENCES_USERS_PER_RUN = 50;

/** The cron's part: applies pending patches user by user over one connection; how many users were brought up to date. */
export async function retryPendingPreferences(env: Bindings): Promise<number> {
  const db = database(env.DB);
  const userIds = await usersWithPendingPreferences(db, PENDING_PREFERENCES_USERS_PER_RUN);
  if (userIds.length === 0) return 0;
  const memory = openMemory(env);
  const failures: unknown[] = [];
  for (const userId of userIds) {
    try {
      await applyPendingPreferences(db, memory, userId);
    } catch (error) {
      // A store that is down fails every user alike: stop. Anything else is this user's alone.
      if (unavailableCause(error)) throw error;
      failures.push(error);
    }
  }
  if (failures.length > 0) throw new AggregateError(failures, `${failures.length} of ${userIds.length} users' preferences are still pending`);
  return userIds.length;
}
