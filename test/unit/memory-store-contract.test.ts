import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { localEmbedder } from "../../src/memory/local-embedder";
import { openMemory } from "../../src/memory/open";
import type { Embedding, MemoryStore } from "../../src/memory/store";

/**
 * The MemoryStore contract, run against PGlite with pgvector through the real driver path: the
 * MEMORY_DB Hyperdrive binding in workerd, postgres.js, user_memory_t2. Another implementation
 * (Vectorize, say) passes the same file by adding its factory to STORES.
 */
const STORES: Record<string, () => MemoryStore> = {
  pgvector: () => openMemory(env).store,
};

const MAX = 500;

async function embedding(text: string): Promise<Embedding> {
  const [vector] = await localEmbedder.embed([text]);
  return { vector: vector!, model: localEmbedder.model };
}

/** A user id no other test shares. */
const someUser = () => `contract-${crypto.randomUUID()}`;

for (const [name, makeStore] of Object.entries(STORES)) {
  describe(`MemoryStore contract: ${name}`, () => {
    it("inserts text memories and lists them newest first, counting only text", async () => {
      const store = makeStore();
      const user = someUser();
      const first = await store.addText(user, "first", await embedding("first"), MAX);
      const second = await store.addText(user, "second", await embedding("second"), MAX);
      expect(first).toMatchObject({ kind: "text", content: "first", preferences: null });
      expect((await store.list(user)).map((item) => item.id)).toEqual([second!.id, first!.id]);
      expect(await store.count(user)).toBe(2);
    });

    it("upserts one preferences row per user, handing the update the current preferences", async () => {
      const store = makeStore();
      const user = someUser();
      const seen: unknown[] = [];
      const write = (plan: "free" | "pro") =>
        store.updatePreferences(user, async (current) => {
          seen.push(current);
          const preferences = { ...current, plan };
          return { preferences, content: `Plan: ${plan}.`, embedding: await embedding(`Plan: ${plan}.`) };
        });
      const created = await write("free");
      const updated = await write("pro");
      expect(seen).toEqual([null, { plan: "free" }]);
      expect(updated!.id).toBe(created!.id);
      expect(updated).toMatchObject({ kind: "preferences", content: "Plan: pro.", preferences: { plan: "pro" } });
      expect(await store.list(user)).toHaveLength(1);
      expect(await store.count(user)).toBe(0);
      expect(await store.updatePreferences(user, async () => null)).toBeNull();
      expect((await store.list(user))[0]!.preferences).toEqual({ plan: "pro" });
    });

    it("answers the nearest k in order of cosine distance", async () => {
      const store = makeStore();
      const user = someUser();
      const texts = ["red apples and green apples", "apples", "a bicycle with red wheels", "quantum chromodynamics lecture notes"];
      const ids = new Map<string, string>();
      for (const text of texts) ids.set(text, (await store.addText(user, text, await embedding(text), MAX))!.id);
      const hits = await store.search(user, await embedding("apples"), 3);
      expect(hits).toHaveLength(3);
      expect(hits[0]!.id).toBe(ids.get("apples"));
      expect(hits[0]!.distance).toBeCloseTo(0, 5);
      expect(hits[1]!.id).toBe(ids.get("red apples and green apples"));
      const distances = hits.map((hit) => hit.distance);
      expect(distances).toEqual([...distances].sort((a, b) => a - b));
      expect(await store.search(user, await embedding("apples"), 50)).toHaveLength(4);
    });

    it("compares vectors of the same model only", async () => {
      const store = makeStore();
      const user = someUser();
      await store.addText(user, "apples", await embedding("apples"), MAX);
      const other = { ...(await embedding("apples")), model: "another-model" };
      expect(await store.search(user, other, 5)).toEqual([]);
    });

    it("deletes one item and all items, and nothing deleted is found again", async () => {
      const store = makeStore();
      const user = someUser();
      const kept = (await store.addText(user, "kept", await embedding("kept"), MAX))!;
      const gone = (await store.addText(user, "gone", await embedding("gone"), MAX))!;
      expect(await store.delete(user, gone.id)).toBe(true);
      expect(await store.delete(user, gone.id)).toBe(false);
      expect((await store.search(user, await embedding("gone"), 5)).map((hit) => hit.id)).toEqual([kept.id]);
      expect(await store.deleteAll(user)).toBe(1);
      expect(await store.list(user)).toEqual([]);
      expect(await store.search(user, await embedding("kept"), 5)).toEqual([]);
    });

    it("keeps users apart: list, search, count and both deletes see only the user's own items", async () => {
      const store = makeStore();
      const [alice, bob] = [someUser(), someUser()];
      const hers = (await store.addText(alice, "the same words", await embedding("the same words"), MAX))!;
      const his = (await store.addText(bob, "the same words", await embedding("the same words"), MAX))!;
      expect((await store.search(alice, await embedding("the same words"), 50)).map((hit) => hit.id)).toEqual([hers.id]);
      expect((await store.list(bob)).map((item) => item.id)).toEqual([his.id]);
      expect(await store.delete(alice, his.id)).toBe(false);
      expect(await store.deleteAll(alice)).toBe(1);
      expect(await store.count(bob)).toBe(1);
    });

    it("refuses a text memory past the limit (null) and stores nothing", async () => {
      const store = makeStore();
      const user = someUser();
      await store.addText(user, "one", await embedding("one"), 2);
      await store.addText(user, "two", await embedding("two"), 2);
      expect(await store.addText(user, "three", await embedding("three"), 2)).toBeNull();
      expect(await store.count(user)).toBe(2);
    });
  });
}
