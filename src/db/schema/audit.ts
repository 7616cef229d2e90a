import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * The audit ledger as exported to D1 by the `AuditLedger` Durable Object, which sequences the
 * hash chain: `hash = SHA-256(canonical(event) || prev_hash)`, `seq` gap-free from 1.
 */
export const auditEvents = sqliteTable(
  "audit_events",
  {
    id: text("id").primaryKey(),
    seq: integer("seq").notNull().unique(),
    type: text("type").notNull(),
    subject: text("subject"),
    actor: text("actor"),
    requestId: text("request_id"),
    ip: text("ip"),
    userAgent: text("user_agent"),
    details: text("details").notNull().default("{}"),
    createdAt: integer("created_at").notNull(),
    prevHash: text("prev_hash").notNull(),
    hash: text("hash").notNull(),
    /** The Ed25519 trust receipt, for the event types that get one. */
    receipt: text("receipt"),
  },
  (table) => [
    index("audit_events_subject_idx").on(table.subject, table.createdAt),
    index("audit_events_type_idx").on(table.type, table.createdAt),
  ],
);

/** Events that could not reach the ledger; the ledger drains this table on its alarm. */
export const auditOutbox = sqliteTable("audit_outbox", {
  id: text("id").primaryKey(),
  event: text("event").notNull(),
  createdAt: integer("created_at").notNull(),
});
