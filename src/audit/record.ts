import type { Database } from "../db/client";
import { auditEvents } from "../db/schema";

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
  | "pqc.token_issued";

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
  /** Records an event; resolves once it is durable. Never throws: auditing never fails a request. */
  record(event: AuthEvent): Promise<void>;
}

/** An auditor for one request (or one Durable Object event), stamping each event with `meta`. */
export function createAuditor(db: Database, meta: RequestMeta): Auditor {
  return { record: (event) => recordAuthEvent(db, meta, event) };
}

/**
 * Writes one event to D1, awaited, so an event is durable before the response leaves. A failed
 * write is logged with the request id, never turned into a failed login.
 */
async function recordAuthEvent(db: Database, meta: RequestMeta, event: AuthEvent): Promise<void> {
  try {
    await db.insert(auditEvents).values({
      id: crypto.randomUUID(),
      type: event.type,
      subject: event.subject ?? null,
      actor: event.actor ?? null,
      requestId: meta.requestId,
      ip: meta.ip ?? null,
      userAgent: meta.userAgent?.slice(0, 256) ?? null,
      details: event.details ?? {},
      createdAt: Date.now(),
    });
  } catch (error) {
    console.error(JSON.stringify({ msg: "audit write failed", requestId: meta.requestId, type: event.type, error: String(error) }));
  }
}
