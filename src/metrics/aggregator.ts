import { DurableObject } from "cloudflare:workers";
import type { Bindings } from "../env";

/** The one aggregator object's name. */
export const METRICS_AGGREGATOR_NAME = "metrics";
/** How long a batch id is remembered, so a retried flush is applied once. */
const APPLIED_BATCH_MEMORY_MS = 60 * 60 * 1000;

/**
 * The running totals of every metric series (`src/metrics/`), summed from the batches each isolate
 * and Durable Object flushes. One object: a batch is one small write, at most one per request that
 * counted something, sent in the background.
 */
export class MetricsAggregator extends DurableObject<Bindings> {
  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS series (name TEXT PRIMARY KEY, value REAL NOT NULL)");
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS applied_batches (id TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)");
  }

  /** Adds a batch to the totals, once per batch id. */
  async add(batchId: string, entries: [string, number][]): Promise<void> {
    const sql = this.ctx.storage.sql;
    const now = Date.now();
    if (sql.exec("SELECT 1 FROM applied_batches WHERE id = ?", batchId).toArray().length > 0) return;
    // One synchronous run: the storage commits it atomically, batch id and all.
    sql.exec("INSERT INTO applied_batches (id, applied_at) VALUES (?, ?)", batchId, now);
    sql.exec("DELETE FROM applied_batches WHERE applied_at < ?", now - APPLIED_BATCH_MEMORY_MS);
    for (const [name, amount] of entries) {
      if (typeof name !== "string" || !Number.isFinite(amount)) continue;
      sql.exec(
        "INSERT INTO series (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
        name,
        amount,
      );
    }
  }

  /** Every series and its total. */
  async snapshot(): Promise<[string, number][]> {
    return this.ctx.storage.sql
      .exec<{ name: string; value: number }>("SELECT name, value FROM series")
      .toArray()
      .map((row) => [row.name, row.value]);
  }
}

/** The one aggregator object, typed: the binding itself is a plain namespace (src/env.ts). */
export function aggregatorObject(env: Bindings): DurableObjectStub<MetricsAggregator> {
  const namespace = env.METRICS as DurableObjectNamespace<MetricsAggregator>;
  return namespace.get(namespace.idFromName(METRICS_AGGREGATOR_NAME));
}
