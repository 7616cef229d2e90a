import { DurableObject } from "cloudflare:workers";
import { sha256 } from "@noble/hashes/sha2.js";
import { toHex, utf8 } from "../crypto/encoding";
import type { Bindings } from "../env";
import { canonicalJson } from "./canonical-json";
import { deliverToLedger } from "./delivery";
import type { LedgerEntry } from "./ledger";

/** Repeats are summed over this long, then written as one event. */
export const TALLY_WINDOW_MS = 60_000;
/** Different events one source may have written individually per window; past this they are only counted. */
export const DISTINCT_EVENTS_PER_WINDOW = 10;

interface Kind {
  /** The first event of its kind this window, written at once. */
  first: LedgerEntry;
  /** Identical events after it, not written individually. */
  repeats: number;
  lastAt: number;
  lastRequestId: string | null;
  /** Fixed when the kind is first seen, so a retried flush appends the same event (the ledger is idempotent by id). */
  aggregateId: string;
}

interface Overflow {
  count: number;
  firstAt: number;
  lastAt: number;
  aggregateId: string;
}

interface TallyWindow {
  start: number;
  kinds: Record<string, Kind>;
  /** Per event type: events past `DISTINCT_EVENTS_PER_WINDOW` different ones. */
  overflow: Record<string, Overflow>;
}

const OPEN_KEY = "open";
const FLUSHING_PREFIX = "flushing:";

/** Events are the same kind when they say the same thing about the same subject; who asked and when may differ. */
function kindOf(entry: LedgerEntry): string {
  return toHex(sha256(utf8(canonicalJson({ type: entry.type, subject: entry.subject, actor: entry.actor, details: entry.details }))));
}

/**
 * Coalesces the audit events a caller can cause at will (failed API keys, refused mesh
 * connects, forbidden emits, refused gateway calls), one object per source (an IP, or a node).
 * The first event of each kind in a minute is appended to the ledger at once; identical ones
 * after it are counted and appended as one event with `count` when the minute ends, and past
 * `DISTINCT_EVENTS_PER_WINDOW` kinds (random key prefixes) every further event is counted per
 * type. So nothing is missing from the ledger, while one source writes at most a few dozen
 * events a minute to the single ledger object every sign-in waits on.
 */
export class AuditTally extends DurableObject<Bindings> {
  /** Counts one event; true when it was appended individually, false when only counted. */
  async tally(entry: LedgerEntry): Promise<boolean> {
    const kv = this.ctx.storage.kv;
    let window = kv.get<TallyWindow>(OPEN_KEY);
    if (!window) {
      window = { start: Date.now(), kinds: {}, overflow: {} };
      await this.ctx.storage.setAlarm(window.start + TALLY_WINDOW_MS);
    }
    const kind = kindOf(entry);
    const seen = window.kinds[kind];
    let individually = false;
    if (seen) {
      seen.repeats += 1;
      seen.lastAt = entry.createdAt;
      seen.lastRequestId = entry.requestId;
    } else if (Object.keys(window.kinds).length < DISTINCT_EVENTS_PER_WINDOW) {
      window.kinds[kind] = {
        first: entry,
        repeats: 0,
        lastAt: entry.createdAt,
        lastRequestId: entry.requestId,
        aggregateId: crypto.randomUUID(),
      };
      individually = true;
    } else {
      let overflow = window.overflow[entry.type];
      if (!overflow) {
        overflow = { count: 0, firstAt: entry.createdAt, lastAt: entry.createdAt, aggregateId: crypto.randomUUID() };
        window.overflow[entry.type] = overflow;
      }
      overflow.count += 1;
      overflow.lastAt = entry.createdAt;
    }
    kv.put(OPEN_KEY, window);
    if (individually) await deliverToLedger(this.env, entry);
    return individually;
  }

  /**
   * Ends the window: the open one is set aside first (synchronously, so tallies arriving during
   * the deliveries open a new one), appended, and only then forgotten, so a crash in between
   * leaves it to the next alarm, which appends the same ids again.
   */
  override async alarm(): Promise<void> {
    const kv = this.ctx.storage.kv;
    const open = kv.get<TallyWindow>(OPEN_KEY);
    if (open) {
      kv.put(`${FLUSHING_PREFIX}${open.start}`, open);
      kv.delete(OPEN_KEY);
    }
    for (const [key, window] of kv.list<TallyWindow>({ prefix: FLUSHING_PREFIX })) {
      for (const entry of aggregates(window, Date.now())) await deliverToLedger(this.env, entry);
      kv.delete(key);
    }
  }
}

/** The events that sum up a window: one per kind that repeated, one per type that overflowed. */
function aggregates(window: TallyWindow, now: number): LedgerEntry[] {
  const end = window.start + TALLY_WINDOW_MS;
  const repeated = Object.values(window.kinds)
    .filter((kind) => kind.repeats > 0)
    .map(({ first, repeats, lastAt, lastRequestId, aggregateId }) => ({
      ...first,
      id: aggregateId,
      requestId: lastRequestId,
      details: { ...first.details, count: repeats, aggregated: "repeats", firstAt: first.createdAt, lastAt, windowEnd: end },
      createdAt: now,
    }));
  const overflowed = Object.entries(window.overflow).map(([type, { count, firstAt, lastAt, aggregateId }]) => ({
    id: aggregateId,
    type,
    subject: null,
    actor: null,
    requestId: null,
    ip: Object.values(window.kinds)[0]?.first.ip ?? null,
    userAgent: null,
    details: { count, aggregated: "overflow", distinctKindsRecorded: DISTINCT_EVENTS_PER_WINDOW, firstAt, lastAt, windowEnd: end },
    createdAt: now,
  }));
  return [...repeated, ...overflowed];
}

/** The tally object of one source, typed: the binding itself is a plain namespace (src/env.ts). */
export function tallyObject(env: Bindings, source: string): DurableObjectStub<AuditTally> {
  const namespace = env.AUDIT_TALLY as DurableObjectNamespace<AuditTally>;
  return namespace.get(namespace.idFromName(source));
}
