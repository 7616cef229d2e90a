import { type Ed25519KeyPair, ed25519FromSeed } from "../crypto/ed25519";
import { signJwt } from "../crypto/jwt";
import type { Config } from "../env";
import type { ChainedEvent } from "./chain";

/** Trust receipts: EdDSA compact JWS, `typ: receipt+jwt`, over an event and its place in the chain. */
export const RECEIPT_TYP = "receipt+jwt";

/** The events whose receipt the API hands back where they happen. */
export const RECEIPT_EVENT_TYPES: ReadonlySet<string> = new Set([
  "user.registered",
  "login.succeeded",
  "api_key.created",
  "api_key.revoked",
  "pqc.token_issued",
  "mesh.node_token_issued",
  "user.role_changed",
  "oauth_client.created",
  "oauth_client.secret_rotated",
]);

/**
 * A receipt's claims. `jti` is the event id, `sub` its subject, `evt` its type, `iat` its time
 * (seconds; `ts` keeps the milliseconds), `seq` and `chain_hash` its place in the ledger. Receipts
 * do not expire: they attest that something happened.
 */
export interface ReceiptClaims {
  iss: string;
  jti: string;
  evt: string;
  sub: string | null;
  iat: number;
  ts: number;
  seq: number;
  chain_hash: string;
}

// Shared across requests as a promise: safe, since it waits on WebCrypto only, no I/O (src/platform/single-flight.ts says why I/O differs).
const keys = new Map<string, Promise<Ed25519KeyPair>>();

/** The receipt key pair for `RECEIPT_SEED`, derived once per isolate. */
export function receiptKey(config: Config): Promise<Ed25519KeyPair> {
  let key = keys.get(config.receiptSeed);
  if (!key) {
    key = ed25519FromSeed(config.receiptSeed);
    keys.set(config.receiptSeed, key);
  }
  return key;
}

export async function signReceipt(config: Config, event: ChainedEvent): Promise<string> {
  const claims: ReceiptClaims = {
    iss: config.issuer,
    jti: event.id,
    evt: event.type,
    sub: event.subject,
    iat: Math.floor(event.createdAt / 1000),
    ts: event.createdAt,
    seq: event.seq,
    chain_hash: event.hash,
  };
  return signJwt({ ...claims }, (await receiptKey(config)).signing, RECEIPT_TYP);
}
