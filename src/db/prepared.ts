import type { Database } from "./client";

/**
 * A drizzle query built once per database client and reused: on the verify hot path, building
 * the query object and its SQL on every request cost about a third of the Worker's own CPU.
 */
export function preparedPerDatabase<T>(build: (db: Database) => T): (db: Database) => T {
  const cache = new WeakMap<Database, T>();
  return (db) => {
    let prepared = cache.get(db);
    if (prepared === undefined) {
      prepared = build(db);
      cache.set(db, prepared);
    }
    return prepared;
  };
}
