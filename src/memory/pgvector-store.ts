import type postgres from "postgres";
import { guardedMemoryCall, type Sql } from "./postgres";
import type { Preferences } from "./preference-schemas";
import type { Embedding, MemoryItem, MemoryKind, MemoryStore, PreferencesRow, ScoredMemoryItem } from "./store";

/** user_memory_t2 (migrations-postgres/0001_user_memory_t2.sql) as postgres.js returns it. */
interface Row {
  id: string;
  kind: MemoryKind;
  content: string;
  preferences: Preferences | null;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = "id, kind, content, preferences, created_at, updated_at";

function item(row: Row): MemoryItem {
  return {
    id: row.id,
    kind: row.kind,
    content: row.content,
    preferences: row.preferences,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** pgvector's text form, `[0.1,0.2,…]`, which `::vector` parses. */
function vectorLiteral(vector: readonly number[]): string {
  return `[${vector.join(",")}]`;
}

/**
 * The MemoryStore on Postgres with pgvector. Writes that check or merge what is there take a
 * transaction-scoped advisory lock on the user, so a count limit or a partial update holds under
 * concurrent requests (Hyperdrive's transaction pooling keeps a transaction on one connection).
 */
export class PgvectorMemoryStore implements MemoryStore {
  constructor(private readonly sql: Sql) {}

  /** Runs `work` in a transaction holding the user's lock. */
  private lockedForUser<T>(userId: string, work: (sql: Sql) => Promise<T>): Promise<T> {
    return guardedMemoryCall(
      () =>
        this.sql.begin(async (tx) => {
          await tx`SELECT pg_advisory_xact_lock(hashtextextended(${`user_memory_t2:${userId}`}, 0))`;
          return work(tx as unknown as Sql);
        }) as Promise<T>,
    );
  }

  updatePreferences(userId: string, update: (current: Preferences | null) => Promise<PreferencesRow | null>): Promise<MemoryItem | null> {
    return this.lockedForUser(userId, async (tx) => {
      const [current] = await tx<{ preferences: Preferences }[]>`
        SELECT preferences FROM user_memory_t2 WHERE user_id = ${userId} AND kind = 'preferences'`;
      const next = await update(current?.preferences ?? null);
      if (next === null) return null;
      const [row] = await tx<Row[]>`
        INSERT INTO user_memory_t2 (id, user_id, kind, content, preferences, embedding, embedding_model)
        VALUES (${crypto.randomUUID()}, ${userId}, 'preferences', ${next.content}, ${tx.json(next.preferences as postgres.JSONValue)},
                ${vectorLiteral(next.embedding.vector)}::vector, ${next.embedding.model})
        ON CONFLICT (user_id) WHERE kind = 'preferences' DO UPDATE
          SET content = EXCLUDED.content, preferences = EXCLUDED.preferences, embedding = EXCLUDED.embedding,
              embedding_model = EXCLUDED.embedding_model, updated_at = now()
        RETURNING ${tx.unsafe(COLUMNS)}`;
      return item(row!);
    });
  }

  addText(userId: string, content: string, embedding: Embedding, maxItems: number): Promise<MemoryItem | null> {
    return this.lockedForUser(userId, async (tx) => {
      const [held] = await tx<{ count: number }[]>`
        SELECT count(*)::int AS count FROM user_memory_t2 WHERE user_id = ${userId} AND kind = 'text'`;
      if (held!.count >= maxItems) return null;
      const [row] = await tx<Row[]>`
        INSERT INTO user_memory_t2 (id, user_id, kind, content, embedding, embedding_model)
        VALUES (${crypto.randomUUID()}, ${userId}, 'text', ${content}, ${vectorLiteral(embedding.vector)}::vector, ${embedding.model})
        RETURNING ${tx.unsafe(COLUMNS)}`;
      return item(row!);
    });
  }

  async list(userId: string): Promise<MemoryItem[]> {
    const rows = await guardedMemoryCall(
      () => this.sql<Row[]>`
        SELECT ${this.sql.unsafe(COLUMNS)} FROM user_memory_t2 WHERE user_id = ${userId} ORDER BY created_at DESC, id`,
    );
    return rows.map(item);
  }

  async search(userId: string, embedding: Embedding, k: number): Promise<ScoredMemoryItem[]> {
    const rows = await guardedMemoryCall(() =>
      this.sql.begin(async (tx) => {
        // Filtering an HNSW scan by user would otherwise stop at ef_search candidates, most of them
        // other users' rows, and answer fewer than k: keep scanning, in exact distance order.
        await tx`SET LOCAL hnsw.iterative_scan = strict_order`;
        return tx<(Row & { distance: number })[]>`
          SELECT ${tx.unsafe(COLUMNS)}, embedding <=> ${vectorLiteral(embedding.vector)}::vector AS distance
          FROM user_memory_t2
          WHERE user_id = ${userId} AND embedding_model = ${embedding.model}
          ORDER BY distance, id
          LIMIT ${k}`;
      }),
    );
    return rows.map((row) => ({ ...item(row), distance: Number(row.distance) }));
  }

  async delete(userId: string, id: string): Promise<boolean> {
    const rows = await guardedMemoryCall(() => this.sql`DELETE FROM user_memory_t2 WHERE user_id = ${userId} AND id = ${id} RETURNING id`);
    return rows.length > 0;
  }

  async deleteAll(userId: string): Promise<number> {
    const rows = await guardedMemoryCall(() => this.sql`DELETE FROM user_memory_t2 WHERE user_id = ${userId} RETURNING id`);
    return rows.length;
  }

  async count(userId: string): Promise<number> {
    const [row] = await guardedMemoryCall(
      () => this.sql<{ count: number }[]>`SELECT count(*)::int AS count FROM user_memory_t2 WHERE user_id = ${userId} AND kind = 'text'`,
    );
    return row!.count;
  }
}
