import postgres from "postgres";
import { ApiError, UnavailableError } from "../errors";
import { withTimeout } from "../platform/with-timeout";
import { workerdSocket } from "./workerd-socket";

/**
 * The Worker's connection to the memory store: postgres.js (the smaller of the two drivers
 * Cloudflare documents for Hyperdrive) over the MEMORY_DB binding. One client per request, as
 * Hyperdrive keeps the pool; one connection per client, since a request's queries run in turn.
 */

export type Sql = postgres.Sql;

/** A store that does not answer within these bounds is down for this request (503), not awaited. */
export const MEMORY_CONNECT_TIMEOUT_SECONDS = 3;
export const MEMORY_CALL_TIMEOUT_MS = 5000;

export function connectMemoryDb(binding: Hyperdrive): Sql {
  return postgres(binding.connectionString, {
    max: 1,
    // No array or custom types here, and fetching them costs a round trip per connection.
    fetch_types: false,
    connect_timeout: MEMORY_CONNECT_TIMEOUT_SECONDS,
    onnotice: () => {},
    // Documented in postgres.js's README, though missing from its type definitions.
    ...({ socket: workerdSocket } as object),
  });
}

/**
 * SQLSTATE classes that mean the server could not serve us: connection exception (08),
 * insufficient resources (53), operator intervention such as a shutdown or cancel (57), system
 * error (58). Any other server error is our statement's fault: a bug, a 500.
 */
const OUTAGE_SQLSTATE_CLASSES = new Set(["08", "53", "57", "58"]);

function isOutage(error: unknown): boolean {
  if (error instanceof ApiError || error instanceof UnavailableError) return false;
  if (error instanceof postgres.PostgresError) return OUTAGE_SQLSTATE_CLASSES.has(error.code.slice(0, 2));
  // Refused, reset or timed-out connections: postgres.js and workerd's sockets give no error class.
  return error instanceof Error;
}

/**
 * The SQLSTATE when the server refused a value we sent as bad data (class 22, data exception: a
 * NUL or invalid Unicode in text or jsonb, malformed input): retrying the same write can never
 * succeed, unlike an outage. Else undefined.
 */
export function refusedDataCode(error: unknown): string | undefined {
  return error instanceof postgres.PostgresError && error.code.startsWith("22") ? error.code : undefined;
}

/** Runs one store operation within MEMORY_CALL_TIMEOUT_MS, turning an outage into an `UnavailableError`. */
export async function guardedMemoryCall<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await withTimeout(work(), MEMORY_CALL_TIMEOUT_MS);
  } catch (error) {
    if (!isOutage(error)) throw error;
    throw new UnavailableError("memory_store", `memory store failed: ${String(error)}`, { cause: error });
  }
}
