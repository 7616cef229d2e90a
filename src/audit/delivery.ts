import { database } from "../db/client";
import type { Bindings } from "../env";
import { type LedgerEntry, ledgerObject } from "./ledger";
import { parkInOutbox } from "./store";

const DELIVERY_ATTEMPTS = 3;
const DELIVERY_BACKOFF_MS = 50;

/** Delivers an entry to the ledger, retrying; parks it in D1's outbox if the ledger stays unreachable. */
export async function deliverToLedger(env: Bindings, entry: LedgerEntry): Promise<void> {
  for (let attempt = 0; attempt < DELIVERY_ATTEMPTS; attempt++) {
    try {
      await ledgerObject(env).append(entry);
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
