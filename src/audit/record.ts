import type { Bindings } from "../env";
import { countAuditEvent } from "../metrics/audit-counters";
import { flushMetrics } from "../metrics/batch";
import { withTimeout } from "../platform/with-timeout";
import { addressKey } from "../rate-limit/client-address";
import { deliverToLedger } from "./delivery";
import type { AuthEvent } from "./event";
import { type LedgerEntry, ledgerObject } from "./ledger";
import { tallyObject } from "./tally";

/** Where a request came from, as the audit trail records it. */
export interface RequestMeta {
  requestId: string;
  ip?: string | undefined;
  userAgent?: string | undefined;
}

/** The audit seam every part of the system records through (`c.get("audit")` in routes). */
export interface Auditor {
  /**
   * Records an event in the background (`waitUntil`): the request never waits for the ledger
   * and never fails because of it. Delivery is retried, then parked in D1's outbox, never dropped.
   */
  record(event: AuthEvent): Promise<void>;
  /**
   * Records an event and waits (bounded) for its signed trust receipt, for the events whose
   * receipt the response carries. If the ledger is slow or down, the event is delivered in the
   * background as by `record` and the response goes without a receipt.
   */
  recordWithReceipt(event: AuthEvent): Promise<string | undefined>;
  /**
   * Records an event that a caller can cause at will, by the thousand (a forged but well-formed
   * API key, a refused connect, a forbidden emit), in the background: the first of its kind from
   * its source in a minute is written, identical ones after it are counted and written as one
   * event with `count` when the minute ends (see `AuditTally`). Nothing is dropped.
   */
  recordCoalesced(event: AuthEvent): Promise<void>;
}

/**
 * Whose repeats are summed together: the client's address for requests, as the rate limits key it
 * (IPv6 cut to its /64), else the subject (a node, for events of a topic object), else one bucket.
 */
export function tallySource(meta: RequestMeta, entry: Pick<LedgerEntry, "subject">): string {
  // The same client key as every per-IP rate limit: an IPv6 /64 is one source, however it is spelt.
  return meta.ip !== undefined ? `ip:${addressKey(meta.ip)}` : (entry.subject ?? "anonymous");
}

/** Tallies an entry; if the tally object is unreachable, the entry goes to the ledger itself rather than nowhere. */
async function tallyOrDeliver(env: Bindings, source: string, entry: LedgerEntry): Promise<void> {
  try {
    await tallyObject(env, source).tally(entry);
  } catch {
    await deliverToLedger(env, entry);
  }
}

const RECEIPT_WAIT_MS = 2000;

/** An auditor for one request (or one Durable Object event), stamping each event with `meta`. */
export function createAuditor(env: Bindings, meta: RequestMeta, waitUntil: (work: Promise<unknown>) => void): Auditor {
  // The id and time are fixed here, once, so retries and outbox replays are the same event.
  const stamp = (event: AuthEvent): LedgerEntry => {
    // Every event is stamped exactly once: the one place its counter (if any) goes up.
    countAuditEvent(event);
    waitUntil(flushMetrics(env));
    return {
      id: crypto.randomUUID(),
      type: event.type,
      subject: event.subject ?? null,
      actor: event.actor ?? null,
      requestId: meta.requestId,
      ip: meta.ip ?? null,
      userAgent: meta.userAgent?.slice(0, 256) ?? null,
      details: event.details ?? {},
      createdAt: Date.now(),
    };
  };
  return {
    async record(event) {
      waitUntil(deliverToLedger(env, stamp(event)));
    },
    async recordCoalesced(event) {
      const entry = stamp(event);
      waitUntil(tallyOrDeliver(env, tallySource(meta, entry), entry));
    },
    async recordWithReceipt(event) {
      const entry = stamp(event);
      try {
        return (await withTimeout(ledgerObject(env).append(entry), RECEIPT_WAIT_MS)).receipt ?? undefined;
      } catch {
        waitUntil(deliverToLedger(env, entry));
        return undefined;
      }
    },
  };
}
