import { DurableObject } from "cloudflare:workers";
import { database } from "../db/client";
import { type Bindings, loadConfig } from "../env";
import { type ChainedEvent, eventHash, GENESIS_HASH, type LedgerEvent } from "./chain";
import { RECEIPT_EVENT_TYPES, signReceipt } from "./receipts";
import { exportEvents, outboxBatch, removeFromOutbox } from "./store";

/** An event as a writer hands it to the ledger: everything but its place in the chain. */
export type LedgerEntry = Omit<LedgerEvent, "seq">;

export interface AppendResult {
  seq: number;
  hash: string;
  receipt: string | null;
}

export interface LedgerHead {
  seq: number;
  hash: string;
}

/** The one ledger object: a single stream keeps one total order and one chain to verify. */
export const LEDGER_NAME = "ledger";

/** Appends are exported to D1 in batches shortly after they land. */
const EXPORT_DELAY_MS = 250;
const EXPORT_BATCH = 100;

interface ChainRow extends Record<string, SqlStorageValue> {
  seq: number;
  id: string;
  event: string;
  prev_hash: string;
  hash: string;
  receipt: string | null;
}

/**
 * Sequences the audit hash chain. The chain lives in this object's SQLite storage, which is
 * durable before any reply leaves the object (the output gate), so an acknowledged event is a
 * durable event. Each append reads the head, hashes and inserts with no await in between, so
 * concurrent writers can neither fork the chain nor leave a gap. Rows are then exported to D1
 * (idempotently, by id) for queries, and verification walks the D1 copy against this head.
 */
export class AuditLedger extends DurableObject<Bindings> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`CREATE TABLE IF NOT EXISTS chain (
      seq INTEGER PRIMARY KEY,
      id TEXT NOT NULL UNIQUE,
      event TEXT NOT NULL,
      prev_hash TEXT NOT NULL,
      hash TEXT NOT NULL,
      receipt TEXT,
      exported INTEGER NOT NULL DEFAULT 0
    )`);
  }

  /** Appends an event (idempotent by id, so writers may retry) and returns its place and receipt. */
  async append(entry: LedgerEntry): Promise<AppendResult> {
    const chained = this.chain(entry);
    const receipt = await this.ensureReceipt(chained);
    await this.scheduleExport();
    return { seq: chained.event.seq, hash: chained.event.hash, receipt };
  }

  /** Exports everything not yet in D1, then returns the head. */
  async flush(): Promise<LedgerHead> {
    while (await this.exportPending()) {
      // keep going until nothing is pending
    }
    return this.head();
  }

  head(): LedgerHead {
    const row = this.sql.exec<{ seq: number; hash: string }>("SELECT seq, hash FROM chain ORDER BY seq DESC LIMIT 1").toArray()[0];
    return row ?? { seq: 0, hash: GENESIS_HASH };
  }

  override async alarm(): Promise<void> {
    await this.appendParked();
    while (await this.exportPending()) {
      // export in batches until done
    }
  }

  /** The synchronous core: read head, hash, insert. Returns the existing row for a repeated id. */
  private chain(entry: LedgerEntry): { event: ChainedEvent; receipt: string | null } {
    const existing = this.sql.exec<ChainRow>("SELECT * FROM chain WHERE id = ?", entry.id).toArray()[0];
    if (existing) return { event: this.toEvent(existing), receipt: existing.receipt };
    const head = this.head();
    const event: LedgerEvent = { ...entry, seq: head.seq + 1 };
    const hash = eventHash(event, head.hash);
    this.sql.exec(
      "INSERT INTO chain (seq, id, event, prev_hash, hash) VALUES (?, ?, ?, ?, ?)",
      event.seq,
      event.id,
      JSON.stringify(event),
      head.hash,
      hash,
    );
    return { event: { ...event, prevHash: head.hash, hash }, receipt: null };
  }

  /**
   * Signs and stores the receipt of an event type that gets one. The row is already in place,
   * so appends that interleave with the signing await cannot disturb the chain.
   */
  private async ensureReceipt(chained: { event: ChainedEvent; receipt: string | null }): Promise<string | null> {
    if (chained.receipt !== null || !RECEIPT_EVENT_TYPES.has(chained.event.type)) return chained.receipt;
    const receipt = await signReceipt(loadConfig(this.env), chained.event);
    this.sql.exec("UPDATE chain SET receipt = ? WHERE seq = ?", receipt, chained.event.seq);
    return receipt;
  }

  private toEvent(row: ChainRow): ChainedEvent {
    return { ...(JSON.parse(row.event) as LedgerEvent), prevHash: row.prev_hash, hash: row.hash };
  }

  private async scheduleExport(): Promise<void> {
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + EXPORT_DELAY_MS);
  }

  /** Exports one batch to D1; true when it exported anything. */
  private async exportPending(): Promise<boolean> {
    const rows = this.sql.exec<ChainRow>("SELECT * FROM chain WHERE exported = 0 ORDER BY seq LIMIT ?", EXPORT_BATCH).toArray();
    if (rows.length === 0) return false;
    await exportEvents(
      database(this.env.DB),
      rows.map((row) => ({ ...this.toEvent(row), receipt: row.receipt })),
    );
    this.sql.exec(`UPDATE chain SET exported = 1 WHERE seq BETWEEN ? AND ?`, rows[0]!.seq, rows[rows.length - 1]!.seq);
    return true;
  }

  /**
   * Appends the events writers parked in D1 while this object was unreachable, and has them
   * exported; called by the Cron Trigger, since no later append may come to set an alarm.
   * Returns how many it appended.
   */
  async drainOutbox(): Promise<number> {
    const appended = await this.appendParked();
    if (appended > 0) await this.scheduleExport();
    return appended;
  }

  private async appendParked(): Promise<number> {
    const db = database(this.env.DB);
    let after = "";
    let appended = 0;
    for (;;) {
      const parked = await outboxBatch(db, after, EXPORT_BATCH);
      if (parked.length === 0) return appended;
      appended += parked.length;
      for (const row of parked) await this.ensureReceipt(this.chain(JSON.parse(row.event) as LedgerEntry));
      await removeFromOutbox(
        db,
        parked.map((row) => row.id),
      );
      after = parked[parked.length - 1]!.id;
    }
  }
}

/** The one ledger object, typed: the binding itself is a plain namespace (src/env.ts). */
export function ledgerObject(env: Bindings): DurableObjectStub<AuditLedger> {
  const namespace = env.LEDGER as DurableObjectNamespace<AuditLedger>;
  return namespace.get(namespace.idFromName(LEDGER_NAME));
}
