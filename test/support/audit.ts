import { env } from "cloudflare:workers";
import { sha256Hex } from "./encoding";

export interface AuditRow {
  id: string;
  type: string;
  subject: string | null;
  actor: string | null;
  request_id: string | null;
  ip: string | null;
  user_agent: string | null;
  details: Record<string, unknown>;
  created_at: number;
}

interface LedgerNamespace {
  idFromName(name: string): DurableObjectId;
  get(id: DurableObjectId): { flush(): Promise<unknown> };
}

/** Asks the audit ledger, where there is one, to export what it holds to D1 now. */
async function flushAuditLedger(): Promise<void> {
  const ledger = (env as unknown as { LEDGER?: LedgerNamespace }).LEDGER;
  if (ledger) await ledger.get(ledger.idFromName("ledger")).flush();
}

async function queryAuditEvents(filter: Record<string, string | undefined>): Promise<AuditRow[]> {
  const clauses: string[] = [];
  const values: string[] = [];
  for (const [column, value] of Object.entries(filter)) {
    if (value === undefined) continue;
    clauses.push(`${column} = ?`);
    values.push(value);
  }
  const where = clauses.length ? `WHERE ${clauses.join(" AND ")}` : "";
  const { results } = await env.DB.prepare(`SELECT * FROM audit_events ${where} ORDER BY created_at, rowid`)
    .bind(...values)
    .all<Omit<AuditRow, "details"> & { details: string }>();
  return results.map((row) => ({ ...row, details: JSON.parse(row.details) as Record<string, unknown> }));
}

/**
 * Audit events in D1, oldest first, filtered by subject, type and/or ip. Events may be recorded in
 * the background, so with `atLeast` this waits (up to 5 s) until that many match before answering.
 */
export async function auditEvents(
  filter: { subject?: string; type?: string; ip?: string },
  { atLeast = 1 }: { atLeast?: number } = {},
): Promise<AuditRow[]> {
  const deadline = Date.now() + 5000;
  for (;;) {
    await flushAuditLedger();
    const rows = await queryAuditEvents(filter);
    if (rows.length >= atLeast || Date.now() > deadline) return rows;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** How the audit trail names an unknown account: a truncated SHA-256 of the address. */
export async function emailSubject(email: string): Promise<string> {
  return `email:${(await sha256Hex(email)).slice(0, 32)}`;
}
