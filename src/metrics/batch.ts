import type { Bindings } from "../env";
import { withTimeout } from "../with-timeout";
import { METRICS_AGGREGATOR_NAME } from "../durable-objects/metrics-aggregator";
import { counterSeries, histogramSeries, type CounterName, type HistogramName, type MetricLabels } from "./registry";

/**
 * Metrics are counted in this isolate (a map add, nothing awaited on the hot path) and flushed in
 * the background (`waitUntil`) to the one `MetricsAggregator` object, which sums every isolate's and
 * Durable Object's batches, so a scrape shows exact totals. Each batch carries an id the aggregator
 * applies once, so a flush retried after a lost answer does not count twice. Where Workers
 * Analytics Engine is bound (`ANALYTICS`), each flushed series is written there too.
 */
let pending = new Map<string, number>();
/** Batches whose flush failed, retried first on the next flush (bounded, oldest dropped and logged). */
const unsent: MetricsBatch[] = [];
let flushing: Promise<void> | undefined;
const MAX_UNSENT_BATCHES = 100;
export const FLUSH_TIMEOUT_MS = 2000;

export interface MetricsBatch {
  id: string;
  entries: [string, number][];
}

function add(series: string, amount: number): void {
  pending.set(series, (pending.get(series) ?? 0) + amount);
}

/** Adds `by` (default 1) to a counter. */
export function countMetric<N extends CounterName>(name: N, labels: MetricLabels<N>, by = 1): void {
  add(counterSeries(name, labels), by);
}

/** Records one observation in a histogram. */
export function observeMetric<N extends HistogramName>(name: N, labels: MetricLabels<N>, value: number): void {
  for (const [series, amount] of histogramSeries(name, labels, value)) add(series, amount);
}

/** True when this isolate holds counts not yet flushed. */
export function hasUnflushedMetrics(): boolean {
  return pending.size > 0 || unsent.length > 0;
}

function aggregator(env: Bindings) {
  return env.METRICS.get(env.METRICS.idFromName(METRICS_AGGREGATOR_NAME));
}

function writeToAnalytics(env: Bindings, batch: MetricsBatch): void {
  if (!env.ANALYTICS) return;
  for (const [series, amount] of batch.entries) {
    env.ANALYTICS.writeDataPoint({ indexes: [series.split("{")[0]!], blobs: [series], doubles: [amount] });
  }
}

async function drain(env: Bindings): Promise<void> {
  // Counts added while a batch is in flight are sent by the next turn of this loop.
  while (hasUnflushedMetrics()) {
    if (pending.size > 0) {
      unsent.push({ id: crypto.randomUUID(), entries: [...pending] });
      pending = new Map();
    }
    const batch = unsent[0]!;
    try {
      // Bounded, so a stuck aggregator cannot stall every later flush; a batch that timed out
      // but was applied after all is refused as a duplicate when it is sent again.
      await withTimeout(aggregator(env).add(batch.id, batch.entries), FLUSH_TIMEOUT_MS);
    } catch (error) {
      if (unsent.length > MAX_UNSENT_BATCHES) {
        const dropped = unsent.shift()!;
        console.error(JSON.stringify({ msg: "metrics batch dropped", batch: dropped.id, series: dropped.entries.length }));
      }
      console.warn(JSON.stringify({ msg: "metrics flush failed; retried with the next one", error: String(error) }));
      return;
    }
    unsent.shift();
    writeToAnalytics(env, batch);
  }
}

/**
 * Sends this isolate's counts to the aggregator; one flush at a time, which also takes what arrives
 * meanwhile. `delayMs` first gathers what comes in that long (hot loops such as pulses flush about
 * once per delay rather than once per event). Never throws.
 */
export function flushMetrics(env: Bindings, delayMs = 0): Promise<void> {
  const gathered = delayMs > 0 ? new Promise((resolve) => setTimeout(resolve, delayMs)) : Promise.resolve();
  flushing ??= gathered.then(() => drain(env)).finally(() => {
    flushing = undefined;
  });
  return flushing;
}

/** The totals across every isolate, after flushing this one's. */
export async function metricTotals(env: Bindings): Promise<Map<string, number>> {
  await flushMetrics(env);
  const totals = new Map<string, number>();
  // RPC widens tuples to arrays in its types; the object returns [name, total] pairs.
  for (const [series, value] of (await aggregator(env).snapshot()) as [string, number][]) totals.set(series, value);
  return totals;
}
