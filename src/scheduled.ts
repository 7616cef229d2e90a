import { ledgerObject } from "./audit/verify-ledger";
import { database } from "./db/client";
import { pruneExpiredRows } from "./db/prune";
import type { Bindings } from "./env";
import { retryPendingPreferences } from "./memory/durable-preferences";

/** How often the Cron Trigger in wrangler.toml runs `scheduled`. */
export const MAINTENANCE_CRON = "*/5 * * * *";

/**
 * The Cron Trigger's work: append the events writers parked in D1's outbox while the ledger was
 * unreachable (no later append may ever come to do it), delete rows no credential can use any
 * more, and write preference updates that user memory missed while it was down. Each part runs
 * even when the others fail; a failure is logged and retried next run.
 */
export async function runMaintenance(env: Bindings, now = Date.now()): Promise<void> {
  const [drained, pruned, memory] = await Promise.allSettled([
    ledgerObject(env).drainOutbox(),
    pruneExpiredRows(database(env.DB), now),
    retryPendingPreferences(env),
  ]);
  console.log(
    JSON.stringify({
      msg: "maintenance",
      outboxDrained: drained.status === "fulfilled" ? drained.value : String(drained.reason),
      pruned: pruned.status === "fulfilled" ? pruned.value : String(pruned.reason),
      memoryPreferencesApplied: memory.status === "fulfilled" ? memory.value : String(memory.reason),
    }),
  );
  if ([drained, pruned, memory].some((part) => part.status === "rejected")) throw new Error("maintenance failed; see the log line above");
}
