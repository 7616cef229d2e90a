import type { Database } from "../db/client";
import type { Bindings } from "../env";
import { type ChainBreak, GENESIS_HASH, verifyChainRun } from "./chain";
import { type LedgerHead, ledgerObject } from "./ledger";
import { eventsFromSeq } from "./store";

const PAGE = 500;

export interface LedgerVerification {
  valid: boolean;
  /** The ledger's own head: what the D1 copy must end with. */
  head: LedgerHead;
  eventsChecked: number;
  firstBreak: ChainBreak | null;
}

/**
 * Walks the D1 copy of the chain from seq 1 and reports the first break: a missing row (gap),
 * a row whose contents no longer match its hash, or a broken link. The walk must end exactly at
 * the ledger object's head, so deleting the newest rows is caught too.
 */
export async function verifyLedger(env: Bindings, db: Database): Promise<LedgerVerification> {
  const head = await ledgerObject(env).flush();
  let seq = 1;
  let prevHash = GENESIS_HASH;
  for (;;) {
    const events = await eventsFromSeq(db, seq, PAGE);
    const run = verifyChainRun(events, seq, prevHash);
    if ("break" in run) return { valid: false, head, eventsChecked: run.break.seq - 1, firstBreak: run.break };
    seq = run.nextSeq;
    prevHash = run.lastHash;
    if (events.length < PAGE) break;
  }
  const checked = seq - 1;
  if (checked !== head.seq || prevHash !== head.hash) {
    const firstBreak: ChainBreak = {
      seq: Math.min(seq, head.seq),
      reason: "gap",
      detail: `the D1 copy ends at seq ${checked}, the ledger at ${head.seq}: rows are missing`,
    };
    return { valid: false, head, eventsChecked: checked, firstBreak };
  }
  return { valid: true, head, eventsChecked: checked, firstBreak: null };
}
