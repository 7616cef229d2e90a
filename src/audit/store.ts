import { and, asc, desc, eq, gt, gte, inArray, lt, lte } from "drizzle-orm";
import type { Database } from "../db/client";
import { auditEvents, auditOutbox } from "../db/schema";
import type { ChainedEvent } from "./chain";

export interface ExportedEvent extends ChainedEvent {
  receipt: string | null;
}

function toRow(event: ExportedEvent) {
  return { ...event, details: JSON.stringify(event.details) };
}

function fromRow(row: typeof auditEvents.$inferSelect): ExportedEvent {
  let details: Record<string, unknown>;
  try {
    details = JSON.parse(row.details) as Record<string, unknown>;
  } catch {
    // A hand-edited row may not even be JSON; keep it visible so verification reports it.
    details = { unparseable: row.details };
  }
  return { ...row, details };
}

/** Copies ledger events into D1; re-exporting an event is a no-op (idempotent by id). */
export async function exportEvents(db: Database, events: readonly ExportedEvent[]): Promise<void> {
  // One statement per row: D1 binds at most 100 parameters per statement. The batch is one transaction.
  const [first, ...rest] = events.map((event) =>
    db.insert(auditEvents).values(toRow(event)).onConflictDoNothing({ target: auditEvents.id }),
  );
  if (first) await db.batch([first, ...rest]);
}

/** Events in `seq` order from `fromSeq`, for chain verification. */
export async function eventsFromSeq(db: Database, fromSeq: number, limit: number): Promise<ExportedEvent[]> {
  const rows = await db.select().from(auditEvents).where(gte(auditEvents.seq, fromSeq)).orderBy(asc(auditEvents.seq)).limit(limit).all();
  return rows.map(fromRow);
}

export interface EventFilter {
  subject?: string | undefined;
  type?: string | undefined;
  /** Epoch ms, inclusive. */
  from?: number | undefined;
  to?: number | undefined;
  /** Only events with `seq` below this (newest-first paging). */
  beforeSeq?: number | undefined;
  limit: number;
}

/** Events newest first, filtered. */
export async function listEvents(db: Database, filter: EventFilter): Promise<ExportedEvent[]> {
  const rows = await db
    .select()
    .from(auditEvents)
    .where(
      and(
        filter.subject ? eq(auditEvents.subject, filter.subject) : undefined,
        filter.type ? eq(auditEvents.type, filter.type) : undefined,
        filter.from !== undefined ? gte(auditEvents.createdAt, filter.from) : undefined,
        filter.to !== undefined ? lte(auditEvents.createdAt, filter.to) : undefined,
        filter.beforeSeq !== undefined ? lt(auditEvents.seq, filter.beforeSeq) : undefined,
      ),
    )
    .orderBy(desc(auditEvents.seq))
    .limit(filter.limit)
    .all();
  return rows.map(fromRow);
}

export async function findEvent(db: Database, id: string): Promise<ExportedEvent | undefined> {
  const row = await db.select().from(auditEvents).where(eq(auditEvents.id, id)).get();
  return row ? fromRow(row) : undefined;
}

/** Parks an event that could not reach the ledger; the ledger drains these. */
export async function parkInOutbox(db: Database, id: string, event: unknown): Promise<void> {
  await db
    .insert(auditOutbox)
    .values({ id, event: JSON.stringify(event), createdAt: Date.now() })
    .onConflictDoNothing();
}

export function outboxBatch(db: Database, afterId: string, limit: number) {
  return db.select().from(auditOutbox).where(gt(auditOutbox.id, afterId)).orderBy(asc(auditOutbox.id)).limit(limit).all();
}

export async function removeFromOutbox(db: Database, ids: readonly string[]): Promise<void> {
  if (ids.length > 0) await db.delete(auditOutbox).where(inArray(auditOutbox.id, [...ids]));
}
