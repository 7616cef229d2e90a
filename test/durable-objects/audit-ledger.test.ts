import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { LEDGER_NAME, type LedgerEntry } from "../../src/audit/ledger";
import { createAuditor } from "../../src/audit/record";
import { findEvent } from "../../src/audit/store";
import { verifyLedger } from "../../src/audit/verify-ledger";
import { database } from "../../src/db/client";

const ledger = () => env.LEDGER.get(env.LEDGER.idFromName(LEDGER_NAME));

function entry(writer: number, n: number): LedgerEntry {
  return {
    id: crypto.randomUUID(),
    type: "login.failed",
    subject: `writer-${writer}`,
    actor: null,
    requestId: `req-${writer}-${n}`,
    ip: null,
    userAgent: null,
    details: { n },
    createdAt: Date.now(),
  };
}

async function appendConcurrently(writers: number, perWriter: number) {
  return (
    await Promise.all(
      Array.from({ length: writers }, (_, writer) =>
        Promise.all(Array.from({ length: perWriter }, (_, n) => ledger().append(entry(writer, n)))),
      ),
    )
  ).flat();
}

const db = () => database(env.DB);

async function rowAt(seq: number): Promise<Record<string, unknown>> {
  const row = await env.DB.prepare("SELECT * FROM audit_events WHERE seq = ?").bind(seq).first<Record<string, unknown>>();
  expect(row).not.toBeNull();
  return row!;
}

/** Puts a row back exactly as it was, so later tests in this file start from an intact chain. */
async function restoreRow(row: Record<string, unknown>): Promise<void> {
  const columns = Object.keys(row);
  await env.DB.prepare(`INSERT INTO audit_events (${columns.join(",")}) VALUES (${columns.map(() => "?").join(",")})`)
    .bind(...columns.map((column) => row[column]))
    .run();
}

describe("AuditLedger", () => {
  it("keeps one gap-free chain under many concurrent writers, and appends are idempotent by id", async () => {
    const before = await ledger().flush();
    const results = await appendConcurrently(10, 20);
    const seqs = results.map((r) => r.seq).sort((a, b) => a - b);
    expect(new Set(seqs).size).toBe(200);
    expect(seqs[0]).toBe(before.seq + 1);
    expect(seqs[seqs.length - 1]).toBe(before.seq + 200);

    const repeat = entry(99, 0);
    const first = await ledger().append(repeat);
    const again = await ledger().append(repeat);
    expect(again).toEqual(first);

    const verification = await verifyLedger(env, db());
    expect(verification).toMatchObject({ valid: true, firstBreak: null });
    expect(verification.eventsChecked).toBe(verification.head.seq);
  });

  it("finds an edited row, a deleted row and deleted newest rows in D1, at the right place", async () => {
    const results = await appendConcurrently(2, 5);
    await ledger().flush();
    const target = Math.min(...results.map((r) => r.seq)) + 3;
    const original = await rowAt(target);

    await env.DB.prepare("UPDATE audit_events SET details = ? WHERE seq = ?").bind('{"n":12345}', target).run();
    expect(await verifyLedger(env, db())).toMatchObject({ valid: false, firstBreak: { seq: target, reason: "hash_mismatch" } });
    await env.DB.prepare("UPDATE audit_events SET details = ? WHERE seq = ?").bind(original!.details, target).run();
    expect((await verifyLedger(env, db())).valid).toBe(true);

    await env.DB.prepare("DELETE FROM audit_events WHERE seq = ?").bind(target).run();
    expect(await verifyLedger(env, db())).toMatchObject({ valid: false, firstBreak: { seq: target, reason: "gap" } });
    await restoreRow(original);
    expect((await verifyLedger(env, db())).valid).toBe(true);

    const head = await ledger().flush();
    const newest = await rowAt(head.seq);
    await env.DB.prepare("DELETE FROM audit_events WHERE seq = ?").bind(head.seq).run();
    expect(await verifyLedger(env, db())).toMatchObject({ valid: false, firstBreak: { seq: head.seq, reason: "gap" } });
    await restoreRow(newest);
    expect((await verifyLedger(env, db())).valid).toBe(true);
  });

  it("parks events in D1's outbox while the ledger is unreachable, and the ledger drains them into the chain", async () => {
    const unreachable = {
      ...env,
      LEDGER: {
        idFromName: () => env.LEDGER.idFromName(LEDGER_NAME),
        get: () => ({ append: () => Promise.reject(new Error("ledger unreachable")) }),
      },
    } as unknown as typeof env;
    const pending: Promise<unknown>[] = [];
    const auditor = createAuditor(unreachable, { requestId: "req-outbox" }, (work) => pending.push(work));

    await auditor.record({ type: "user.disabled", subject: "outbox-user" });
    expect(await auditor.recordWithReceipt({ type: "user.role_changed", subject: "outbox-user" })).toBeUndefined();
    await Promise.all(pending);
    const parked = await env.DB.prepare("SELECT id FROM audit_outbox").all<{ id: string }>();
    expect(parked.results).toHaveLength(2);

    // The next alarm (scheduled by any append) drains the outbox into the chain; run it now.
    await ledger().append(entry(7, 0));
    await runDurableObjectAlarm(ledger());
    expect((await env.DB.prepare("SELECT COUNT(*) AS n FROM audit_outbox").first<{ n: number }>())!.n).toBe(0);
    for (const { id } of parked.results) {
      const event = await findEvent(db(), id);
      expect(event).toMatchObject({ subject: "outbox-user", requestId: "req-outbox" });
    }
    // The receipt-bearing event got its receipt when it finally landed.
    const roleChange = await env.DB.prepare(
      "SELECT receipt FROM audit_events WHERE type = 'user.role_changed' AND subject = 'outbox-user'",
    ).first<{ receipt: string }>();
    expect(roleChange!.receipt).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect((await verifyLedger(env, db())).valid).toBe(true);
  });
});
