// The local user-memory store: PGlite (WASM Postgres) with pgvector, served on loopback for the
// Worker's MEMORY_DB Hyperdrive binding. `npm run dev` (persisted under .wrangler/) and the tests
// (in memory) start it; no system Postgres is needed. Every start applies migrations-postgres/*.sql,
// the same files production runs with psql (they are idempotent).
//
// Why not PGLiteSocketServer as is: PGlite is one Postgres session, and the server's queue
// interleaves clients message by message. Two clients using the extended protocol (Parse, Bind,
// Execute, Sync: what postgres.js sends for every query) then share the session's unnamed portal,
// and one client's Bind can land between the other's Bind and Execute. Here a client holds the
// session from its first message to the end of its exchange (Sync, a simple Query, or Terminate),
// and for a whole transaction, much as a transaction-mode pooler (Hyperdrive itself) hands out
// server connections. Clients' named prepared statements live on in the one session; postgres.js
// names them at random per connection, so they never collide.

import { readdirSync, readFileSync } from "node:fs";
import { type AddressInfo, createServer, type Socket } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { vector } from "@electric-sql/pglite-pgvector";
import { PGLiteSocketHandler, type PGLiteSocketHandlerOptions } from "@electric-sql/pglite-socket";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");
export const MEMORY_MIGRATIONS_DIR = join(ROOT, "migrations-postgres");
/** wrangler reads the local Hyperdrive connection string from this variable (it wins over wrangler.toml). */
export const LOCAL_CONNECTION_STRING_VARIABLE = "CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_MEMORY_DB";

/** A client waiting this long for the session gives up (its connection is closed), as pglite-socket's own queue does. */
const SESSION_WAIT_MS = 60_000;
const PROTOCOL_VERSION_3 = 196608;
const SYNC = 0x53;
const QUERY = 0x51;
const TERMINATE = 0x58;
const SYNC_MESSAGE = new Uint8Array([SYNC, 0, 0, 0, 4]);

/** True for a message after which the session is the client's no longer (outside a transaction). */
function endsExchange(message: Uint8Array): boolean {
  const startup = message.length >= 8 && new DataView(message.buffer, message.byteOffset).getInt32(4) === PROTOCOL_VERSION_3;
  return startup || message[0] === SYNC || message[0] === QUERY || message[0] === TERMINATE;
}

/**
 * The one PGlite session, lent to one client at a time: what PGLiteSocketHandler calls as its
 * `queryQueue` (enqueue, clearQueueForHandler, clearTransactionIfNeeded).
 */
interface Waiter {
  handlerId: number;
  resolve(): void;
  reject(error: Error): void;
  timer?: NodeJS.Timeout;
}

class SessionLender {
  readonly db: PGlite;
  owner: number | null = null;
  waiting: Waiter[] = [];

  constructor(db: PGlite) {
    this.db = db;
  }

  async enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    if (this.owner !== handlerId) await this.#acquire(handlerId);
    let bytes = 0;
    try {
      await this.db.execProtocolRawStream(message, {
        onRawData: (data) => {
          bytes += data.length;
          onData(data);
        },
      });
    } finally {
      if (endsExchange(message) && !this.db.isInTransaction()) this.#release();
    }
    return bytes;
  }

  #acquire(handlerId: number): Promise<void> {
    if (this.owner === null) {
      this.owner = handlerId;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { handlerId, resolve, reject };
      waiter.timer = setTimeout(() => {
        this.waiting = this.waiting.filter((other) => other !== waiter);
        reject(new Error(`no turn at the PGlite session within ${SESSION_WAIT_MS} ms`));
      }, SESSION_WAIT_MS);
      this.waiting.push(waiter);
    });
  }

  #release(): void {
    const next = this.waiting.shift();
    this.owner = next ? next.handlerId : null;
    if (next) {
      clearTimeout(next.timer);
      next.resolve();
    }
  }

  clearQueueForHandler(handlerId: number): void {
    for (const waiter of this.waiting.filter((other) => other.handlerId === handlerId)) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error("client disconnected"));
    }
    this.waiting = this.waiting.filter((other) => other.handlerId !== handlerId);
  }

  /** A client gone mid-exchange or mid-transaction: end its exchange, roll back, and pass the session on. */
  async clearTransactionIfNeeded(handlerId: number): Promise<void> {
    if (this.owner !== handlerId) return;
    try {
      await this.db.execProtocolRawStream(SYNC_MESSAGE, { onRawData: () => {} });
      if (this.db.isInTransaction()) await this.db.exec("ROLLBACK");
    } finally {
      this.#release();
    }
  }
}

/** Runs every migrations-postgres/*.sql, in name order. */
export async function applyMemoryMigrations(db: PGlite): Promise<string[]> {
  const files = readdirSync(MEMORY_MIGRATIONS_DIR)
    .filter((name) => name.endsWith(".sql"))
    .sort();
  for (const file of files) await db.exec(readFileSync(join(MEMORY_MIGRATIONS_DIR, file), "utf8"));
  return files;
}

/**
 * Starts PGlite with pgvector, migrated, on 127.0.0.1 (`port` 0: a free one). `dataDir` persists the
 * data; without it, in memory.
 */
export async function startMemoryDb({ dataDir, port = 0 }: { dataDir?: string; port?: number } = {}): Promise<{
  connectionString: string;
  port: number;
  close(): Promise<void>;
}> {
  const db = await PGlite.create({ dataDir, extensions: { vector } });
  await applyMemoryMigrations(db);
  const lender = new SessionLender(db);
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    // Duck-typed: the handler calls only the three methods SessionLender has (see above).
    const queryQueue = lender as unknown as PGLiteSocketHandlerOptions["queryQueue"];
    const handler = new PGLiteSocketHandler({ queryQueue, closeOnDetach: true });
    handler.attach(socket).catch(() => socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    // PGlite accepts any user and password (trust); the names are Postgres's defaults.
    connectionString: `postgres://postgres:postgres@127.0.0.1:${bound}/postgres`,
    port: bound,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await db.close();
    },
  };
}
