import { type Dependency, UnavailableError } from "../errors";

/**
 * D1 and KV bindings whose outages are typed. What the binding throws when the service cannot
 * serve us (D1's "Network connection lost" or "overloaded", a KV 429 or 5xx) becomes an
 * `UnavailableError`, which the error handler answers with 503 and Retry-After. What it throws
 * because our own statement or key is wrong (SQLite's statement and constraint errors, D1's type
 * errors, a KV 4xx such as a key over 512 bytes) passes through unchanged: that is a bug, a 500.
 * The runtime gives no error classes for these, so its messages are read here, and only here.
 */

/** SQLite result codes (as D1 appends them) and D1 errors that mean the statement, not D1, is at fault. */
const D1_STATEMENT_FAULT = /\b(SQLITE_(ERROR|CONSTRAINT|MISMATCH|RANGE|TOOBIG|AUTH)|D1_TYPE_ERROR)\b/;
/** `KV GET failed: 414 …`: a 4xx other than 429 means the request, not KV, is at fault. */
const KV_REQUEST_FAULT = /^KV \w+ failed: 4(?!29)\d\d\b/;

function isOutage(dependency: Dependency, error: unknown): boolean {
  if (!(error instanceof Error) || error instanceof TypeError) return false;
  return !(dependency === "d1" ? D1_STATEMENT_FAULT : KV_REQUEST_FAULT).test(error.message);
}

/** Runs one binding call, turning an outage (thrown or rejected) into an `UnavailableError`. */
function guarded<T>(dependency: Dependency, call: () => T): T {
  const typed = (error: unknown): never => {
    if (!isOutage(dependency, error)) throw error;
    throw new UnavailableError(dependency, `${dependency} failed: ${(error as Error).message}`, { cause: error });
  };
  try {
    const result = call();
    return (result instanceof Promise ? result.catch(typed) : result) as T;
  } catch (error) {
    return typed(error);
  }
}

/** `target` with every method guarded, except those `special` builds itself (from the real target). */
function guardMethods<T extends object>(target: T, dependency: Dependency, special: Record<string, (real: T) => unknown> = {}): T {
  return new Proxy(target, {
    get(real, property) {
      if (typeof property === "string" && Object.hasOwn(special, property)) return special[property]!(real);
      const value: unknown = Reflect.get(real, property, real);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => guarded(dependency, () => (value as (...a: unknown[]) => unknown).apply(real, args));
    },
  });
}

/** The real statement behind each guarded one, for `batch`, which only takes the runtime's own. */
const statements = new WeakMap<object, D1PreparedStatement>();

function guardStatement(statement: D1PreparedStatement): D1PreparedStatement {
  const proxy = guardMethods(statement, "d1", {
    bind:
      (real) =>
      (...values: unknown[]) =>
        guardStatement(real.bind(...values)),
  });
  statements.set(proxy, statement);
  return proxy;
}

const d1s = new WeakMap<D1Database, D1Database>();
const kvs = new WeakMap<KVNamespace, KVNamespace>();

/** The D1 binding with typed outages: statements it prepares are guarded too. Built once per binding. */
export function guardD1(d1: D1Database): D1Database {
  let guardedD1 = d1s.get(d1);
  if (!guardedD1) {
    guardedD1 = guardMethods(d1, "d1", {
      prepare: (real) => (query: string) => guardStatement(real.prepare(query)),
      batch: (real) => (batch: D1PreparedStatement[]) =>
        guarded("d1", () => real.batch(batch.map((statement) => statements.get(statement) ?? statement))),
    });
    d1s.set(d1, guardedD1);
  }
  return guardedD1;
}

/** The KV binding with typed outages. Built once per binding. */
export function guardKv(kv: KVNamespace): KVNamespace {
  let guardedKv = kvs.get(kv);
  if (!guardedKv) {
    guardedKv = guardMethods(kv, "kv");
    kvs.set(kv, guardedKv);
  }
  return guardedKv;
}
