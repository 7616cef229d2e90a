import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";
import { guardD1 } from "./guard";
import * as schema from "./schema";

export type Database = DrizzleD1Database<typeof schema>;

const clients = new WeakMap<D1Database, Database>();

/** The drizzle client for a D1 binding (outages typed, see `guardD1`), built once per isolate. */
export function database(d1: D1Database): Database {
  let db = clients.get(d1);
  if (!db) {
    db = drizzle(guardD1(d1), { schema });
    clients.set(d1, db);
  }
  return db;
}
