import { ledgerObject } from "./audit/ledger";
import { database } from "./db/client";
import { pruneExpiredRows } from "./db/prune";
import { type Bindings, loadConfig } from "./env";
import { retryPendingPreferences } from "./memory/durable-preferences";
import { maintainPqcKeys } from "./pqc/keyring";

/** How often the Cron Trigger in wrangler.toml runs `scheduled`. */
export const MAINTENANCE_CRON = "*/5 * * * *";

/**
 * The Cron Trigger's work: append the events writers parked in D1's outbox while the ledger was
 * unreachable (no later append may ever come to do it), delete rows no credential can use any
 * more, keep PQC key rotation moving (a rotation seen without traffic, retirement markers written
 * again) and write preference updates that user memory missed while it was down. Each part runs
 * even when another fails; a failure is logged and retried next run.
 */
export async function runMaintenance(env: Bindings, now = Date.now()): Promise<void> {
  const parts = {
    outboxDrained: () => ledgerObject(env).drainOutbox(),
    pruned: () => pruneExpiredRows(database(env.DB), now),
    pqcRetirementsMarked: () => maintainPqcKeys(loadConfig(env), env, now),
    memoryPreferencesApplied: () => retryPendingPreferences(env),
  };
  const names = Object.keys(parts) as (keyof typeof parts)[];
  const outcomes = await Promise.allSettled(names.map((name) => parts[name]()));
  const report = Object.fromEntries(
    names.map((name, i) => [name, outcomes[i]!.status === "fulfilled" ? outcomes[i]!.value : String(outcomes[i]!.reason)]),
  );
  console.log(JSON.stringify({ msg: "maintenance", ...report }));
  if (outcomes.some((outcome) => outcome.status === "rejected")) throw new Error("maintenance failed; see the log line above");
}
