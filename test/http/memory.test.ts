import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { Bindings } from "../../src/env";
import { MAX_MEMORY_TEXT_CHARS, MAX_SEARCH_K, MAX_TEXT_MEMORIES_PER_USER } from "../../src/memory/limits";
import { openMemory } from "../../src/memory/open";
import { apiKeyFor, registerUser, type SignedIn } from "../support/accounts";
import { auditEvents } from "../support/audit";
import type { Handler } from "../support/http";
import { appWith, request } from "../support/worker";

/**
 * The /api/memory routes in workerd, through the MEMORY_DB Hyperdrive binding to PGlite with
 * pgvector (vitest.config.ts), embedding with the local embedder (no AI binding in tests).
 */

const add = (user: SignedIn, content: string, handler?: Handler) =>
  request("POST", "/api/memory", { token: user.accessToken, body: { content }, handler });
const search = (user: SignedIn, query: string, k?: number) =>
  request("POST", "/api/memory/search", { token: user.accessToken, body: { query, k } });
const list = (user: SignedIn) => request("GET", "/api/memory", { token: user.accessToken });

let alice: SignedIn;
let bob: SignedIn;
beforeAll(async () => {
  [alice, bob] = await Promise.all([registerUser(), registerUser()]);
});

describe("text memories", () => {
  it("adds, lists and finds the nearest first", async () => {
    const user = await registerUser();
    const hiking = await add(user, "I love hiking in the Alps on weekends");
    expect(hiking.status, hiking.text).toBe(201);
    expect(hiking.body).toMatchObject({ kind: "text", content: "I love hiking in the Alps on weekends", preferences: null });
    await add(user, "My favourite programming language is Rust");
    await add(user, "Allergic to peanuts");

    const listed = await list(user);
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((item: { content: string }) => item.content)).toEqual([
      "Allergic to peanuts",
      "My favourite programming language is Rust",
      "I love hiking in the Alps on weekends",
    ]);
    expect(listed.body.limits).toEqual({ textItems: 3, maxTextItems: MAX_TEXT_MEMORIES_PER_USER, maxChars: MAX_MEMORY_TEXT_CHARS });

    const found = await search(user, "hiking in the mountains", 2);
    expect(found.status, found.text).toBe(200);
    expect(found.body.items).toHaveLength(2);
    expect(found.body.items[0]).toMatchObject({ id: hiking.body.id, content: "I love hiking in the Alps on weekends" });
    expect(found.body.items[0].distance).toBeLessThan(found.body.items[1].distance);
  });

  it("trims the text and refuses an empty one, one over the size limit, and unknown fields (400)", async () => {
    expect((await add(alice, "  padded  ")).body.content).toBe("padded");
    for (const body of [
      { content: "   " },
      { content: "x".repeat(MAX_MEMORY_TEXT_CHARS + 1) },
      { content: "ok", userId: bob.userId },
      {},
    ]) {
      const response = await request("POST", "/api/memory", { token: alice.accessToken, body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.error.code).toBe("invalid_request");
    }
    expect((await add(alice, "x".repeat(MAX_MEMORY_TEXT_CHARS))).status).toBe(201);
  });
});

describe("search", () => {
  it("defaults k to 5, takes 1 to 50, and refuses anything else (400)", async () => {
    const user = await registerUser();
    for (let i = 0; i < 7; i++) await add(user, `note number ${i}`);
    expect((await search(user, "note")).body.items).toHaveLength(5);
    expect((await search(user, "note", 1)).body.items).toHaveLength(1);
    expect((await search(user, "note", MAX_SEARCH_K)).body.items).toHaveLength(7);
    for (const k of [0, MAX_SEARCH_K + 1, 2.5, "3"]) {
      const response = await request("POST", "/api/memory/search", { token: user.accessToken, body: { query: "note", k } });
      expect(response.status, String(k)).toBe(400);
      expect(response.body.error.message).toMatch(/^k: /);
    }
    expect((await request("POST", "/api/memory/search", { token: user.accessToken, body: { k: 3 } })).status).toBe(400);
  });

  it("never returns another user's items, even the nearest ones", async () => {
    const secret = await add(bob, "Bob's bank PIN hint: the year of the moon landing");
    expect(secret.status).toBe(201);
    const found = await search(alice, "Bob's bank PIN hint: the year of the moon landing", MAX_SEARCH_K);
    expect(found.status).toBe(200);
    expect(found.body.items.map((item: { id: string }) => item.id)).not.toContain(secret.body.id);
    expect(found.body.items.every((item: { content: string }) => !item.content.includes("PIN"))).toBe(true);
    expect((await list(alice)).body.items.map((item: { id: string }) => item.id)).not.toContain(secret.body.id);
  });
});

describe("preferences", () => {
  it("sets, then merges a partial update into the stored preferences, and finds them by search", async () => {
    const user = await registerUser();
    const first = await request("PUT", "/api/memory/preferences", {
      token: user.accessToken,
      body: { displayName: "Ada", locale: "en-gb", interests: ["Python", "chess", "python"], buddy: { name: "Bolt", tone: "playful" } },
    });
    expect(first.status, first.text).toBe(200);
    expect(first.body).toMatchObject({
      kind: "preferences",
      preferences: {
        displayName: "Ada",
        locale: "en-GB",
        interests: ["python", "chess"],
        buddy: { name: "Bolt", tone: "playful", persona: "" },
      },
    });
    const second = await request("PUT", "/api/memory/preferences", { token: user.accessToken, body: { plan: "pro", interests: ["go"] } });
    expect(second.status).toBe(200);
    expect(second.body.id).toBe(first.body.id);
    expect(second.body.preferences).toEqual({
      displayName: "Ada",
      locale: "en-GB",
      interests: ["go"],
      buddy: { name: "Bolt", tone: "playful", persona: "" },
      plan: "pro",
    });
    const items = (await list(user)).body.items;
    expect(items.filter((item: { kind: string }) => item.kind === "preferences")).toHaveLength(1);
    expect(items[0].content).toContain("Interests: go.");
    const found = await search(user, "interests go", 1);
    expect(found.body.items[0].id).toBe(first.body.id);
  });

  it("keeps every field of concurrent partial updates (none is lost)", async () => {
    const user = await registerUser();
    const patches = [
      { displayName: "Grace" },
      { locale: "fr" },
      { plan: "team" },
      { interests: ["cobol"] },
      { buddy: { name: "Byte", tone: "concise" } },
    ];
    const responses = await Promise.all(
      patches.map((body) => request("PUT", "/api/memory/preferences", { token: user.accessToken, body })),
    );
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 200, 200]);
    const [stored] = (await list(user)).body.items;
    expect(stored.preferences).toEqual({
      displayName: "Grace",
      locale: "fr",
      plan: "team",
      interests: ["cobol"],
      buddy: { name: "Byte", tone: "concise", persona: "" },
    });
  });

  it("refuses an empty update, an unknown field, an unknown plan and a bad locale (400)", async () => {
    for (const body of [
      {},
      { favouriteColour: "blue" },
      { plan: "platinum" },
      { locale: "not a locale!" },
      { buddy: { name: "x", tone: "sarcastic" } },
    ]) {
      const response = await request("PUT", "/api/memory/preferences", { token: alice.accessToken, body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.error.code).toBe("invalid_request");
    }
  });
});

describe("deletion", () => {
  it("deletes one item, gone from list and search at once, and audits it", async () => {
    const user = await registerUser();
    const item = await add(user, "temporary note about tulips");
    await add(user, "a note about roses");
    const deleted = await request("DELETE", `/api/memory/${item.body.id}`, { token: user.accessToken });
    expect(deleted.status).toBe(204);
    expect((await search(user, "temporary note about tulips", MAX_SEARCH_K)).body.items.map((hit: { id: string }) => hit.id)).not.toContain(
      item.body.id,
    );
    expect((await list(user)).body.items).toHaveLength(1);
    expect((await request("DELETE", `/api/memory/${item.body.id}`, { token: user.accessToken })).status).toBe(404);
    const [event] = await auditEvents({ subject: user.userId, type: "memory.deleted" });
    expect(event?.details).toMatchObject({ id: item.body.id });
  });

  it("answers 404 for another user's item and leaves it alone; 400 for an id that is no uuid", async () => {
    const theirs = await add(bob, "bob's note that alice cannot delete");
    const attempt = await request("DELETE", `/api/memory/${theirs.body.id}`, { token: alice.accessToken });
    expect(attempt.status).toBe(404);
    expect((await list(bob)).body.items.map((item: { id: string }) => item.id)).toContain(theirs.body.id);
    expect((await request("DELETE", "/api/memory/not-a-uuid", { token: alice.accessToken })).status).toBe(400);
  });

  it("deletes all of one user's memory, preferences included, and no one else's", async () => {
    const user = await registerUser();
    await add(user, "one");
    await add(user, "two");
    await request("PUT", "/api/memory/preferences", { token: user.accessToken, body: { plan: "free" } });
    const bobsBefore = (await list(bob)).body.items.length;
    const cleared = await request("DELETE", "/api/memory", { token: user.accessToken });
    expect(cleared.status).toBe(200);
    expect(cleared.body).toEqual({ deleted: 3 });
    expect((await list(user)).body.items).toEqual([]);
    expect((await search(user, "one")).body.items).toEqual([]);
    expect((await list(bob)).body.items.length).toBe(bobsBefore);
    expect(await auditEvents({ subject: user.userId, type: "memory.cleared" })).toHaveLength(1);
  });
});

describe("the item limit", () => {
  it(`stops at ${MAX_TEXT_MEMORIES_PER_USER} text memories with a 409, concurrent adds included`, { timeout: 120_000 }, async () => {
    const user = await registerUser();
    // Fill to one below the limit straight through the store's own table: 499 requests would only be slow.
    const { store, embedder } = openMemory(env);
    const [vector] = await embedder.embed(["filler"]);
    for (let i = 0; i < MAX_TEXT_MEMORIES_PER_USER - 2; i++)
      await store.addText(user.userId, `filler ${i}`, { vector: vector!, model: embedder.model }, MAX_TEXT_MEMORIES_PER_USER);
    const racing = await Promise.all([add(user, "a"), add(user, "b"), add(user, "c"), add(user, "d")]);
    expect(racing.map((response) => response.status).sort()).toEqual([201, 201, 409, 409]);
    const refused = racing.find((response) => response.status === 409)!;
    expect(refused.body.error).toMatchObject({ code: "conflict", message: expect.stringContaining(String(MAX_TEXT_MEMORIES_PER_USER)) });
    // The preferences are not a text memory: still allowed.
    expect((await request("PUT", "/api/memory/preferences", { token: user.accessToken, body: { plan: "pro" } })).status).toBe(200);
  });
});

describe("credentials", () => {
  it("needs a credential (401) and accepts the session cookie", async () => {
    for (const [method, path] of [
      ["GET", "/api/memory"],
      ["POST", "/api/memory"],
      ["POST", "/api/memory/search"],
      ["PUT", "/api/memory/preferences"],
      ["DELETE", "/api/memory"],
    ] as const) {
      const response = await request(method, path, {
        body: method === "GET" || method === "DELETE" ? undefined : { content: "x", query: "x" },
      });
      expect(response.status, `${method} ${path}`).toBe(401);
    }
    const viaCookie = await request("GET", "/api/memory", { headers: { Cookie: `__Host-heady_session=${alice.cookie}` } });
    expect(viaCookie.status).toBe(200);
  });

  it("lets an API key read and search with scope memory:read only, and never write or delete", async () => {
    await add(alice, "alice reads this through her key");
    const reader = await apiKeyFor(alice, ["memory:read"]);
    const plain = await apiKeyFor(alice, []);
    expect((await request("GET", "/api/memory", { apiKey: reader })).status).toBe(200);
    const found = await request("POST", "/api/memory/search", {
      apiKey: reader,
      body: { query: "alice reads this through her key", k: 1 },
    });
    expect(found.body.items[0].content).toBe("alice reads this through her key");
    for (const response of [
      await request("GET", "/api/memory", { apiKey: plain }),
      await request("POST", "/api/memory/search", { apiKey: plain, body: { query: "x" } }),
    ]) {
      expect(response.status).toBe(403);
      expect(response.headers.get("WWW-Authenticate")).toContain('scope="memory:read"');
    }
    const writes = [
      await request("POST", "/api/memory", { apiKey: reader, body: { content: "written by a key" } }),
      await request("PUT", "/api/memory/preferences", { apiKey: reader, body: { plan: "pro" } }),
      await request("DELETE", "/api/memory", { apiKey: reader }),
    ];
    expect(writes.map((response) => response.status)).toEqual([403, 403, 403]);
    expect((await list(alice)).body.items.length).toBeGreaterThan(0);
  });
});

describe("a memory store that is down", () => {
  let down: Handler;
  beforeAll(() => {
    down = appWith({ ...env, MEMORY_DB: env.MEMORY_DB_DOWN } as Bindings);
  });

  it("answers every route with 503 unavailable and Retry-After, never a 500", async () => {
    const responses = [
      await request("GET", "/api/memory", { token: alice.accessToken, handler: down }),
      await add(alice, "lost?", down),
      await request("POST", "/api/memory/search", { token: alice.accessToken, body: { query: "x" }, handler: down }),
      await request("PUT", "/api/memory/preferences", { token: alice.accessToken, body: { plan: "pro" }, handler: down }),
      await request("DELETE", `/api/memory/${crypto.randomUUID()}`, { token: alice.accessToken, handler: down }),
      await request("DELETE", "/api/memory", { token: alice.accessToken, handler: down }),
    ];
    for (const response of responses) {
      expect(response.status, response.text).toBe(503);
      expect(response.body.error.code).toBe("unavailable");
      expect(response.body.error.message).toBe("User memory is temporarily unavailable; try again shortly.");
      expect(Number(response.headers.get("Retry-After"))).toBeGreaterThan(0);
    }
  });

  it("gives up on a store that accepts the connection and never answers (503, bounded by the connect timeout)", {
    timeout: 30_000,
  }, async () => {
    const hanging = appWith({ ...env, MEMORY_DB: env.MEMORY_DB_SILENT } as Bindings);
    const response = await request("GET", "/api/memory", { token: alice.accessToken, handler: hanging });
    expect(response.status, response.text).toBe(503);
    expect(response.body.error.code).toBe("unavailable");
  });

  it("keeps no pending write behind a PUT that answered 503", async () => {
    const user = await registerUser();
    expect(
      (await request("PUT", "/api/memory/preferences", { token: user.accessToken, body: { plan: "team" }, handler: down })).status,
    ).toBe(503);
    expect((await list(user)).body.items).toEqual([]);
  });
});
