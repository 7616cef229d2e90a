import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMemoryDb } from "../../scripts/dev/memory-db.ts";
import { request } from "../support/e2e/client";
import { uniqueEmail } from "../support/fresh";

/**
 * User memory end to end: wrangler dev's MEMORY_DB Hyperdrive binding to PGlite with pgvector on
 * loopback (started by the global setup), through real HTTP.
 */
describe("user memory through wrangler dev", () => {
  it("adds, searches and deletes, and survives logout and a new session", async () => {
    const email = uniqueEmail("memory");
    const password = `Memory-e2e-${crypto.randomUUID()}`;
    const registered = await request("POST", "/api/auth/register", { body: { email, password } });
    expect(registered.status).toBe(201);
    const token = registered.body.accessToken as string;

    const added = await Promise.all(
      ["I keep bees on the roof", "My daughter is called Mira", "Prefers dark mode in every app"].map((content) =>
        request("POST", "/api/memory", { token, body: { content } }),
      ),
    );
    expect(added.map((response) => response.status)).toEqual([201, 201, 201]);
    const preferences = await request("PUT", "/api/memory/preferences", { token, body: { interests: ["beekeeping"], plan: "pro" } });
    expect(preferences.status).toBe(200);

    const found = await request("POST", "/api/memory/search", { token, body: { query: "bees on the roof", k: 2 } });
    expect(found.status).toBe(200);
    expect(found.body.items[0].content).toBe("I keep bees on the roof");

    const deleted = await request("DELETE", `/api/memory/${added[1]!.body.id}`, { token });
    expect(deleted.status).toBe(204);
    const afterDelete = await request("POST", "/api/memory/search", { token, body: { query: "My daughter is called Mira", k: 50 } });
    expect(afterDelete.body.items.map((item: { id: string }) => item.id)).not.toContain(added[1]!.body.id);

    expect((await request("POST", "/api/auth/logout", { token })).status).toBe(204);
    expect((await request("GET", "/api/memory", { token })).status).toBe(401);

    const again = await request("POST", "/api/auth/login", { body: { email, password } });
    expect(again.status).toBe(200);
    const listed = await request("GET", "/api/memory", { token: again.body.accessToken });
    expect(listed.status).toBe(200);
    const contents = listed.body.items.map((item: { content: string }) => item.content);
    expect(contents).toHaveLength(3);
    expect(contents).toEqual(
      expect.arrayContaining([
        "I keep bees on the roof",
        "Prefers dark mode in every app",
        expect.stringContaining("Interests: beekeeping."),
      ]),
    );
    expect(listed.body.items.find((item: { kind: string }) => item.kind === "preferences").preferences).toEqual({
      interests: ["beekeeping"],
      plan: "pro",
    });
  });

  it("serves concurrent requests of several users, each seeing only their own items", async () => {
    const users = await Promise.all(
      [0, 1, 2, 3].map(async (n) => {
        const response = await request("POST", "/api/auth/register", {
          body: { email: uniqueEmail(`memory-${n}`), password: `Memory-e2e-${crypto.randomUUID()}` },
        });
        return response.body.accessToken as string;
      }),
    );
    await Promise.all(
      users.flatMap((token, n) =>
        [0, 1, 2].map((i) => request("POST", "/api/memory", { token, body: { content: `user ${n} note ${i}` } })),
      ),
    );
    const lists = await Promise.all(users.map((token) => request("GET", "/api/memory", { token })));
    lists.forEach((listed, n) => {
      expect(listed.body.items.map((item: { content: string }) => item.content).sort()).toEqual(
        [0, 1, 2].map((i) => `user ${n} note ${i}`),
      );
    });
  });
});

/**
 * The launcher itself (scripts/dev/memory-db.ts): PGlite is one session, lent per exchange, so many
 * postgres.js clients at once each get their own answers (pglite-socket's own queue mixes them up).
 */
describe("the local memory store launcher", () => {
  let memoryDb: { connectionString: string; close(): Promise<void> };
  beforeAll(async () => {
    memoryDb = await startMemoryDb();
  });
  afterAll(() => memoryDb.close());

  it("applies the migration: user_memory_t2 with a vector(384) column and a cosine HNSW index", async () => {
    const sql = postgres(memoryDb.connectionString, { max: 1, fetch_types: false });
    const [column] =
      await sql`SELECT format_type(atttypid, atttypmod) AS type FROM pg_attribute WHERE attrelid = 'user_memory_t2'::regclass AND attname = 'embedding'`;
    expect(column?.type).toBe("vector(384)");
    const [index] = await sql`SELECT indexdef FROM pg_indexes WHERE indexname = 'user_memory_t2_embedding'`;
    expect(index?.indexdef).toMatch(/USING hnsw \(embedding vector_cosine_ops\)/);
    await sql.end();
  });

  it("answers 30 concurrent clients, prepared and unprepared, each with its own rows", async () => {
    const clients = Array.from({ length: 30 }, (_, n) =>
      postgres(memoryDb.connectionString, { max: 1, fetch_types: false, prepare: n % 2 === 0 }),
    );
    const correct = await Promise.all(
      clients.map(async (sql, n) => {
        let right = 0;
        for (let i = 0; i < 10; i++) {
          const rows = await sql.unsafe(`SELECT $1::int AS n, $2::int AS i, generate_series(1, ${1 + (n % 7)}) AS row`, [n, i]);
          if (rows.length === 1 + (n % 7) && rows.every((row) => row.n === n && row.i === i)) right++;
        }
        await sql.begin(async (tx) => {
          await tx`SELECT ${n}::int`;
        });
        return right;
      }),
    );
    expect(correct).toEqual(clients.map(() => 10));
    await Promise.all(clients.map((sql) => sql.end()));
  });
});
