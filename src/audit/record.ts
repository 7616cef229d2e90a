import { parkInOutbox } from "../db/audit-events";
import { database } from "../db/client";
import { LEDGER_NAME, type LedgerEntry } from "../durable-objects/audit-ledger";
import type { Bindings } from "../env";
import { countAuditEvent } from "../metrics/audit-counters";
import { flushMetrics } from "../metrics/batch";
import { addressKey } from "../rate-limit/client-address";
import { withTimeout } from "../with-timeout";

/** Every auth event type the system records. */
export type AuthEventType =
  | "user.registered"
  | "user.bootstrapped_admin"
  | "login.succeeded"
  | "login.failed"
  | "login.rate_limited"
  | "token.refreshed"
  | "refresh.reuse_detected"
  | "refresh.failed"
  | "logout"
  | "api_key.created"
  | "api_key.revoked"
  | "api_key.used"
  | "api_key.failed"
  | "user.role_changed"
  | "user.disabled"
  | "pqc.token_issued"
  | "mesh.node_token_issued"
  | "mesh.node_revoked"
  | "mesh.access_denied"
  | "mesh.connected"
  | "gateway.denied"
  | "provider.login_failed"
  | "provider.linked"
  | "provider.unlinked"
  | "account.planted_access_removed"
  | "email.verification_sent"
  | "email.verified"
  | "password.reset_requested"
  | "password.reset"
  | "password.changed"
  | "password.change_failed"
  | "session.revoked"
  | "session.revoked_others"
  | "session.reauthenticated"
  | "reauthentication.failed"
  | "login.mfa_required"
  | "mfa.enabled"
  | "mfa.disabled"
  | "mfa.recovery_code_used"
  | "passkey.added"
  | "passkey.removed"
  | "onboarding.stage_saved"
  | "onboarding.completed"
  | "widget.session_started"
  | "memory.deleted"
  | "memory.cleared"
  | "memory.preferences_dropped";

export interface AuthEvent {
  type: AuthEventType;
  /** Who the event is about: a user id, or for unknown accounts a hash of the email. */
  subject?: string | undefined;
  /** Who caused it, when not the subject. */
  actor?: string | undefined;
  details?: Record<string, unknown>;
}

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

/** The tally object of one source. */
export function tallyObject(env: Bindings, source: string) {
  return env.AUDIT_TALLY.get(env.AUDIT_TALLY.idFromName(source));
}

/** Tallies an entry; if the tally object is unreachable, the entry goes to the ledger itself rather than nowhere. */
async function tallyOrDeliver(env: Bindings, source: string, entry: LedgerEntry): Promise<void> {
  try {
    await tallyObject(env, source).tally(entry);
  } catch {
    await deliverToLedger(env, entry);
  }
}

const DELIVERY_ATTEMPTS = 3;
const DELIVERY_BACKOFF_MS = 50;
const RECEIPT_WAIT_MS = 2000;

function ledger(env: Bindings) {
  return env.LEDGER.get(env.LEDGER.idFromName(LEDGER_NAME));
}

/** Delivers an entry to the ledger, retrying; parks it in D1's outbox if the ledger stays unreachable. */
export async function deliverToLedger(env: Bindings, entry: LedgerEntry): Promise<void> {
  for (let attempt = 0; attempt < DELIVERY_ATTEMPTS; attempt++) {
    try {
      await ledger(env).append(entry);
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, DELIVERY_BACKOFF_MS * 4 ** attempt));
    }
  }
  try {
    await parkInOutbox(database(env.DB), entry.id, entry);
  } catch (error) {
    // Both the ledger and D1 are down: the log line is the last copy of the event.
    console.error(JSON.stringify({ msg: "audit event could not be stored", event: entry, error: String(error) }));
  }
}

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
        return (await withTimeout(ledger(env).append(entry), RECEIPT_WAIT_MS)).receipt ?? undefined;
      } catch {
        waitUntil(deliverToLedger(env, entry));
        return undefined;
      }
    },
  };
}
