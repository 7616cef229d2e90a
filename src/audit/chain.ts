import { sha256 } from "@noble/hashes/sha2.js";
import { toHex, utf8 } from "../crypto/encoding";
import { canonicalJson } from "./canonical-json";

/** The `prev_hash` of the first event. */
export const GENESIS_HASH = "0".repeat(64);

/** One ledger entry, as hashed. `details` is a JSON object; times are epoch milliseconds. */
export interface LedgerEvent {
  id: string;
  seq: number;
  type: string;
  subject: string | null;
  actor: string | null;
  requestId: string | null;
  ip: string | null;
  userAgent: string | null;
  details: Record<string, unknown>;
  createdAt: number;
}

export interface ChainedEvent extends LedgerEvent {
  prevHash: string;
  hash: string;
}

/**
 * `hash = hex(SHA-256(JCS({...event, prev_hash})))`: RFC 8785 canonical JSON of the event's
 * fields (names as in `LedgerEvent`) plus `prev_hash`. Synchronous on purpose: the ledger computes
 * it between reading the chain head and writing the row, with no await in which another
 * append could read the same head.
 */
export function eventHash(event: LedgerEvent, prevHash: string): string {
  const canonical = canonicalJson({
    id: event.id,
    seq: event.seq,
    type: event.type,
    subject: event.subject,
    actor: event.actor,
    requestId: event.requestId,
    ip: event.ip,
    userAgent: event.userAgent,
    details: event.details,
    createdAt: event.createdAt,
    prev_hash: prevHash,
  });
  return toHex(sha256(utf8(canonical)));
}

export interface ChainBreak {
  seq: number;
  reason: "gap" | "prev_hash_mismatch" | "hash_mismatch";
  detail: string;
}

/**
 * Checks a run of events in `seq` order that continues from (`expectedSeq`, `expectedPrevHash`),
 * returning the first break, or the position to continue from.
 */
export function verifyChainRun(
  events: readonly ChainedEvent[],
  expectedSeq: number,
  expectedPrevHash: string,
): { break: ChainBreak } | { nextSeq: number; lastHash: string } {
  let seq = expectedSeq;
  let prevHash = expectedPrevHash;
  for (const event of events) {
    if (event.seq !== seq) {
      return { break: { seq, reason: "gap", detail: `expected seq ${seq}, found ${event.seq}: rows are missing` } };
    }
    if (event.prevHash !== prevHash) {
      return { break: { seq, reason: "prev_hash_mismatch", detail: "prev_hash does not match the previous event's hash" } };
    }
    if (eventHash(event, event.prevHash) !== event.hash) {
      return { break: { seq, reason: "hash_mismatch", detail: "the event's contents do not match its hash" } };
    }
    prevHash = event.hash;
    seq += 1;
  }
  return { nextSeq: seq, lastHash: prevHash };
}
