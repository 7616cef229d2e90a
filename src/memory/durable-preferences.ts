import { type Auditor, createAuditor } from "../audit/record";
import type { Database } from "../db/client";
import { database } from "../db/client";
import type { PendingMemoryPreferencesRow } from "../db/schema";
import type { Bindings } from "../env";
import { unavailableCause } from "../errors";
import { type Memory, openMemory } from "./open";
import {
  clearPendingPreferences,
  discardPendingPreferences,
  hasPendingPreferences,
  listPendingPreferences,
  markPendingPreferencesFailed,
  recordPendingPreferences,
  usersWithPendingPreferences,
} from "./pending-preferences";
import { refusedDataCode } from "./postgres";
import type { Preferences } from "./preference-schemas";
import { preferencesText } from "./preferences-text";
import type { MemoryItem } from "./store";

/**
 * Preference writes that survive a memory store outage. Every patch is recorded in D1
 * (pending_memory_preferences) before memory is touched, and deleted only once memory holds it.
 * Applying reads the user's pending patches inside the store's per-user lock and merges them, in
 * id order, over the stored preferences: the pending set only ever loses its oldest rows, so a
 * patch applied twice (two appliers racing) gives the same result as once.
 */

/** What applying a user's pending patches did. */
export interface AppliedPreferences {
  /** The preferences item as memory holds it after the last write; null if nothing was written. */
  item: MemoryItem | null;
  /** The ids of the patches dropped because the store refused them as bad data. */
  dropped: number[];
}

type Attempt = { refused: false; item: MemoryItem | null } | { refused: true; sqlstate: string; patches: PendingMemoryPreferencesRow[] };

/** Writes the user's oldest `count` pending patches, merged over the stored preferences, and clears them. */
async function writeOldestPending(db: Database, memory: Memory, userId: string, count: number): Promise<Attempt> {
  let patches: PendingMemoryPreferencesRow[] = [];
  try {
    const item = await memory.store.updatePreferences(userId, async (current) => {
      patches = (await listPendingPreferences(db, userId)).slice(0, count);
      if (patches.length === 0) return null;
      const preferences: Preferences = Object.assign({}, current, ...patches.map((row) => row.patch));
      const content = preferencesText(preferences);
      const [vector] = await memory.embedder.embed([content]);
      return { preferences, content, embedding: { vector: vector!, model: memory.embedder.model } };
    });
    if (patches.length > 0) await clearPendingPreferences(db, userId, patches.at(-1)!.id);
    return { refused: false, item };
  } catch (error) {
    const sqlstate = refusedDataCode(error);
    if (sqlstate === undefined || patches.length === 0) throw error;
    return { refused: true, sqlstate, patches };
  }
}

/**
 * Merges the user's pending patches into memory and clears them. A patch the store refuses as bad
 * data (one queued before the storable-text rules, src/schemas/text.ts) can never be applied: it is
 * dropped, with a `memory.preferences_dropped` audit event, so it holds back neither the patches
 * after it nor the person's memory requests. Any other failure (an `UnavailableError` when the
 * store is down) is thrown; the patches then stay for the next try, and the user goes to the back
 * of the cron's queue.
 */
export async function applyPendingPreferences(db: Database, memory: Memory, userId: string, audit: Auditor): Promise<AppliedPreferences> {
  try {
    return await writePendingPreferences(db, memory, userId, audit);
  } catch (error) {
    // Best effort: the failure to report is the one that stopped the write.
    await markPendingPreferencesFailed(db, userId).catch(() => undefined);
    throw error;
  }
}

/** applyPendingPreferences's write, dropping what the store refuses. */
async function writePendingPreferences(db: Database, memory: Memory, userId: string, audit: Auditor): Promise<AppliedPreferences> {
  const merged = await writeOldestPending(db, memory, userId, Number.POSITIVE_INFINITY);
  if (!merged.refused) return { item: merged.item, dropped: [] };
  // Which of the merged patches the store refused is unknown: write them one at a time, oldest
  // first, dropping each one refused. Each round clears or drops a patch, so this ends.
  const applied: AppliedPreferences = { item: null, dropped: [] };
  for (;;) {
    const attempt = await writeOldestPending(db, memory, userId, 1);
    if (!attempt.refused) {
      if (attempt.item === null) return applied;
      applied.item = attempt.item;
      continue;
    }
    const patch = attempt.patches[0]!;
    await discardPendingPreferences(db, patch.id);
    applied.dropped.push(patch.id);
    await audit.record({
      type: "memory.preferences_dropped",
      subject: userId,
      details: {
        pendingId: patch.id,
        fields: Object.keys(patch.patch),
        sqlstate: attempt.sqlstate,
        queuedAt: new Date(patch.createdAt).toISOString(),
      },
    });
  }
}

/** Applies the user's pending patches if there are any (the retry on their next memory request). */
export async function retryPendingPreferencesFor(db: Database, memory: Memory, userId: string, audit: Auditor): Promise<void> {
  if (await hasPendingPreferences(db, userId)) await applyPendingPreferences(db, memory, userId, audit);
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
  audit: Auditor,
): Promise<void> {
  const db = database(env.DB);
  await recordPendingPreferences(db, userId, patch);
  waitUntil(
    applyPendingPreferences(db, openMemory(env), userId, audit).catch((error: unknown) => {
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
  // The run's audit events (dropped patches) are delivered before it ends: a cron run has no waitUntil here.
  const deliveries: Promise<unknown>[] = [];
  const audit = createAuditor(env, { requestId: `maintenance-${crypto.randomUUID()}` }, (work) => deliveries.push(work));
  const failures: unknown[] = [];
  try {
    for (const userId of userIds) {
      try {
        await applyPendingPreferences(db, memory, userId, audit);
      } catch (error) {
        // A store that is down fails every user alike: stop. Anything else is this user's alone.
        if (unavailableCause(error)) throw error;
        failures.push(error);
      }
    }
  } finally {
    await Promise.allSettled(deliveries);
  }
  if (failures.length > 0)
    throw new AggregateError(failures, `${failures.length} of ${userIds.length} users' preferences are still pending`);
  return userIds.length;
}
