import type { Bindings } from "../env";
import { embedderFor } from "./choose-embedder";
import type { Embedder } from "./embedder";
import { PgvectorMemoryStore } from "./pgvector-store";
import { connectMemoryDb } from "./postgres";
import type { MemoryStore } from "./store";

/** The memory store and embedder of one request or job. */
export interface Memory {
  store: MemoryStore;
  embedder: Embedder;
}

/**
 * Opens memory for one request or job (the connection is made on the first query). It is never
 * ended by hand: workerd closes a request's sockets when the request is done, which is what
 * Cloudflare's Hyperdrive examples rely on, and postgres.js's `sql.end()` leaves an unhandled
 * rejection behind in workerd on every close (porsager/postgres#1202).
 */
export function openMemory(env: Pick<Bindings, "MEMORY_DB" | "AI">): Memory {
  return { store: new PgvectorMemoryStore(connectMemoryDb(env.MEMORY_DB)), embedder: embedderFor(env) };
}
