import type { Bindings } from "../env";
import { withTimeout } from "../platform/with-timeout";
import { aggregatorObject } from "./aggregator";
import { type CounterName, counterSeries, type HistogramName, histogramSeries, type MetricLabels } from "./registry";

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
/**
 * The background flush in flight in this isolate, as a marker, never as a promise: in workerd a
 * promise that waits on I/O (the aggregator's RPC) belongs to the request that started it, and
 * another request that awaits it (or hands it to its `waitUntil`) is rejected with `Promise will
 * never complete.` once that request is cancelled. So the others leave their counts to the flush
 * in flight (its drain loop takes what arrives while it awaits) and do not wait for it. `aliveUntil`
 * moves on before each send; a flush silent past it was abandoned (its request cancelled mid-await,
 * so its `finally` never ran) and no longer holds the others off.
 */
let flushing: FlushMarker | undefined;
interface FlushMarker {
  aliveUntil: number;
}
const MAX_UNSENT_BATCHES = 100;
export const FLUSH_TIMEOUT_MS = 2000;
/** How long a flush may go without progress before the next one takes over: one bounded send, and a margin. */
export const FLUSH_ABANDONED_AFTER_MS = FLUSH_TIMEOUT_MS + 1000;

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

function writeToAnalytics(env: Bindings, batch: MetricsBatch): void {
  if (!env.ANALYTICS) return;
  for (const [series, amount] of batch.entries) {
    env.ANALYTICS.writeDataPoint({ indexes: [series.split("{")[0]!], blobs: [series], doubles: [amount] });
  }
}

/** Takes a batch out of `unsent` by id (another drain may have sent it, or batches before it); true when it was still there. */
function removeUnsent(id: string): boolean {
  const at = unsent.findIndex((batch) => batch.id === id);
  if (at >= 0) unsent.splice(at, 1);
  return at >= 0;
}

/**
 * Sends `unsent` and `pending` until both are empty or a send fails; for a background flush
 * (`marker`), also until another flush has taken over from it. Two drains may run at once (a
 * scrape's, or one that took over from a flush thought abandoned): they may send the same batch,
 * which the aggregator applies once by its id, and each removes a sent batch by id, so neither can
 * drop a batch the other has not sent.
 */
async function drain(env: Bindings, marker?: FlushMarker): Promise<void> {
  const stillMine = () => !marker || flushing === marker;
  try {
    // Counts added while a batch is in flight are sent by the next turn of this loop.
    while (hasUnflushedMetrics() && stillMine()) {
      if (pending.size > 0) {
        unsent.push({ id: crypto.randomUUID(), entries: [...pending] });
        pending = new Map();
      }
      const batch = unsent[0]!;
      if (marker) marker.aliveUntil = Date.now() + FLUSH_ABANDONED_AFTER_MS;
      try {
        // Bounded, so a stuck aggregator cannot stall every later flush; a batch that timed out
        // but was applied after all is refused as a duplicate when it is sent again.
        await withTimeout(aggregatorObject(env).add(batch.id, batch.entries), FLUSH_TIMEOUT_MS);
      } catch (error) {
        if (unsent.length > MAX_UNSENT_BATCHES) {
          const dropped = unsent.shift()!;
          console.error(JSON.stringify({ msg: "metrics batch dropped", batch: dropped.id, series: dropped.entries.length }));
        }
        console.warn(JSON.stringify({ msg: "metrics flush failed; retried with the next one", error: String(error) }));
        return;
      }
      // Analytics once per batch in this isolate, by whichever drain removes it first.
      if (removeUnsent(batch.id)) writeToAnalytics(env, batch);
    }
  } finally {
    // In the same turn as the loop's last check, so no count is left to a flush that has ended.
    if (marker && stillMine()) flushing = undefined;
  }
}

/**
 * Sends this isolate's counts to the aggregator in the background. One flush at a time: while one
 * is in flight (and not abandoned), this returns at once and leaves the counts to it, so a request
 * never waits on another request's I/O. `delayMs` first gathers what comes in that long (hot loops
 * such as pulses flush about once per delay rather than once per event). Never throws.
 */
export async function flushMetrics(env: Bindings, delayMs = 0): Promise<void> {
  if (flushing && Date.now() < flushing.aliveUntil) return;
  const mine: FlushMarker = { aliveUntil: Date.now() + delayMs + FLUSH_ABANDONED_AFTER_MS };
  flushing = mine;
  if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
  await drain(env, mine);
}

/** Sends this isolate's counts in this request, whether or not a background flush is in flight (the scrape; tests). */
export function drainMetrics(env: Bindings): Promise<void> {
  return drain(env);
}

/** Forgets the flush in flight, which then stops at its next turn (tests: earlier requests' flushes run in contexts a test cannot await). */
export function forgetMetricsFlushForTests(): void {
  flushing = undefined;
}

/** The totals across every isolate, after sending this one's (in this request: it must not wait on another request's flush). */
export async function metricTotals(env: Bindings): Promise<Map<string, number>> {
  await drainMetrics(env);
  const totals = new Map<string, number>();
  // RPC widens tuples to arrays in its types; the object returns [name, total] pairs.
  for (const [series, value] of (await aggregatorObject(env).snapshot()) as [string, number][]) totals.set(series, value);
  return totals;
}
