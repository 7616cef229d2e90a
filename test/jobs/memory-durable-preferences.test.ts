import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createAuditor } from "../../src/audit/record";
import { database } from "../../src/db/client";
import type { Bindings } from "../../src/env";
import { PENDING_PREFERENCES_USERS_PER_RUN, savePreferencesDurably } from "../../src/memory/durable-preferences";
import { openMemory } from "../../src/memory/open";
import { listPendingPreferences, recordPendingPreferences } from "../../src/memory/pending-preferences";
import { runMaintenance } from "../../src/scheduled";
import { registerUser } from "../support/accounts";
import { auditEvents } from "../support/audit";
import { request } from "../support/worker";

/**
 * Onboarding's preference writes (savePreferencesDurably) with user memory down and back: the
 * patch is kept in D1, then applied by the cron or by the user's next memory request, in order.
 */

const storeDown = { ...env, MEMORY_DB: env.MEMORY_DB_DOWN } as Bindings;

/** Runs savePreferencesDurably and waits for its background write, as the runtime would. */
async function save(bindings: Bindings, userId: string, patch: Parameters<typeof savePreferencesDurably>[3]) {
  const background: Promise<unknown>[] = [];
  await savePreferencesDurably(
    bindings,
    (promise) => background.push(promise),
    userId,
    patch,
    createAuditor(bindings, { requestId: "test-durable-preferences" }, (promise) => background.push(promise)),
  );
  await Promise.all(background);
}

const pending = (userId: string) => listPendingPreferences(database(env.DB), userId);
const storedPreferences = async (token: string) =>
  (await request("GET", "/api/memory", { token })).body.items.find((item: { kind: string }) => item.kind === "preferences")?.preferences;

describe("savePreferencesDurably", () => {
  it("writes to memory at once when the store is up, leaving nothing pending", async () => {
    const user = await registerUser();
    await save(env, user.userId, { displayName: "Lin", interests: ["go"] });
    expect(await pending(user.userId)).toEqual([]);
    expect(await storedPreferences(user.accessToken)).toEqual({ displayName: "Lin", interests: ["go"] });
  });

  it("keeps the patch while the store is down, and the cron applies it once the store is back", async () => {
    const user = await registerUser();
    await save(storeDown, user.userId, { plan: "pro" });
    await save(storeDown, user.userId, { plan: "team", locale: "de" });
    expect((await pending(user.userId)).map((row) => row.patch)).toEqual([{ plan: "pro" }, { plan: "team", locale: "de" }]);

    await runMaintenance(env);
    expect(await pending(user.userId)).toEqual([]);
    // Applied in order: the later plan wins.
    expect(await storedPreferences(user.accessToken)).toEqual({ plan: "team", locale: "de" });
  });

  it("applies what is pending on the user's next memory request", async () => {
    const user = await registerUser();
    await save(storeDown, user.userId, { buddy: { name: "Echo", tone: "friendly", persona: "" } });
    expect(await pending(user.userId)).toHaveLength(1);
    expect(await storedPreferences(user.accessToken)).toEqual({ buddy: { name: "Echo", tone: "friendly", persona: "" } });
    expect(await pending(user.userId)).toEqual([]);
  });

  it("orders a later PUT after what onboarding left pending", async () => {
    const user = await registerUser();
    await save(storeDown, user.userId, { plan: "free", displayName: "Old" });
    const put = await request("PUT", "/api/memory/preferences", { token: user.accessToken, body: { displayName: "New" } });
    expect(put.status).toBe(200);
    expect(put.body.preferences).toEqual({ plan: "free", displayName: "New" });
  });

  it("fails the cron run (to be retried) while the store is still down, keeping the patch", async () => {
    const user = await registerUser();
    await save(storeDown, user.userId, { plan: "pro" });
    await expect(runMaintenance(storeDown)).rejects.toThrow(/maintenance failed/);
    expect(await pending(user.userId)).toHaveLength(1);
    await runMaintenance(env);
    expect(await pending(user.userId)).toEqual([]);
  });
});

/** Users straight into D1 (no password to hash), for tests that need many; memory is checked through the store. */
async function insertUsers(count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, () => crypto.randomUUID());
  const now = Date.now();
  await env.DB.batch(
    ids.map((id) =>
      env.DB.prepare(
        "INSERT INTO users (id, email, password_hash, role, created_at, updated_at) VALUES (?, ?, 'no-password', 'user', ?, ?)",
      ).bind(id, `${id}@pending.heady.test`, now, now),
    ),
  );
  return ids;
}

/**
 * A patch queued before the storable-text rules (src/schemas/text.ts), which no route accepts any
 * more: written into D1 as onboarding did then. Postgres refuses it as bad data for ever.
 */
async function queueUnstorablePatch(userId: string, patch: Record<string, unknown>): Promise<void> {
  await env.DB.prepare("INSERT INTO pending_memory_preferences (user_id, patch, created_at) VALUES (?, ?, ?)")
    .bind(userId, JSON.stringify(patch), Date.now())
    .run();
}

const NUL_NAME = { displayName: "Ada\u0000Lovelace", locale: "en" };
const LONE_SURROGATE_BUDDY = { buddy: { name: "Pip\uD83D", tone: "friendly", persona: "" } };
const storedFor = async (userId: string) =>
  (await openMemory(env).store.list(userId)).find((item) => item.kind === "preferences")?.preferences;

describe("a queued patch the memory store refuses as bad data", () => {
  it("is dropped with an audit event, the patches around it are applied, and every memory route answers again", async () => {
    const user = await registerUser();
    await save(storeDown, user.userId, { locale: "de" });
    await queueUnstorablePatch(user.userId, NUL_NAME);
    await save(storeDown, user.userId, { plan: "pro" });
    await queueUnstorablePatch(user.userId, LONE_SURROGATE_BUDDY);
    const queued = (await pending(user.userId)).map((row) => row.id);

    const listed = await request("GET", "/api/memory", { token: user.accessToken });
    expect(listed.status, listed.text).toBe(200);
    expect(listed.body.items.find((item: { kind: string }) => item.kind === "preferences").preferences).toEqual({
      locale: "de",
      plan: "pro",
    });
    expect(await pending(user.userId)).toEqual([]);

    const dropped = await auditEvents({ subject: user.userId, type: "memory.preferences_dropped" }, { atLeast: 2 });
    expect(dropped.map((event) => event.details)).toEqual([
      expect.objectContaining({ pendingId: queued[1], fields: ["displayName", "locale"], sqlstate: expect.stringMatching(/^22/) }),
      expect.objectContaining({ pendingId: queued[3], fields: ["buddy"], sqlstate: expect.stringMatching(/^22/) }),
    ]);

    const token = user.accessToken;
    expect((await request("POST", "/api/memory", { token, body: { content: "Ada writes Rust" } })).status).toBe(201);
    expect((await request("POST", "/api/memory/search", { token, body: { query: "Rust" } })).status).toBe(200);
    expect((await request("PUT", "/api/memory/preferences", { token, body: { displayName: "Ada" } })).status).toBe(200);
    expect((await request("DELETE", "/api/memory", { token })).status).toBe(200);
  });

  it("is dropped by the cron too, which then reports success", async () => {
    const [userId] = await insertUsers(1);
    await queueUnstorablePatch(userId!, LONE_SURROGATE_BUDDY);
    await queueUnstorablePatch(userId!, { interests: ["rust"] });
    await runMaintenance(env);
    expect(await pending(userId!)).toEqual([]);
    expect(await storedFor(userId!)).toEqual({ interests: ["rust"] });
    expect(await auditEvents({ subject: userId, type: "memory.preferences_dropped" })).toHaveLength(1);
  });
});

describe("the cron's queue", () => {
  it(`with more than ${PENDING_PREFERENCES_USERS_PER_RUN} users whose patches the store refuses, still applies everyone else's`, {
    timeout: 120_000,
  }, async () => {
    const refused = await insertUsers(PENDING_PREFERENCES_USERS_PER_RUN + 5);
    for (const userId of refused) await queueUnstorablePatch(userId, NUL_NAME);
    const [good] = await insertUsers(1);
    await save(storeDown, good!, { plan: "team" });

    // Runs until nothing is left (a run that fails is logged and the next one tries again), at most a few.
    for (let run = 0; run < 3 && (await pending(good!)).length > 0; run++) await runMaintenance(env).catch(() => undefined);
    expect(await storedFor(good!)).toEqual({ plan: "team" });
    for (const userId of refused) expect(await pending(userId)).toEqual([]);
  });

  it("puts users whose last attempt failed behind those not yet tried, so they cannot take every run's places", {
    timeout: 120_000,
  }, async () => {
    // Queued while the store was down: each one's first attempt failed.
    const failedBefore = await insertUsers(PENDING_PREFERENCES_USERS_PER_RUN + 1);
    for (const userId of failedBefore) await save(storeDown, userId, { locale: "fr" });
    // Queued after them, and not tried yet (its background write never ran).
    const [fresh] = await insertUsers(1);
    await recordPendingPreferences(database(env.DB), fresh!, { plan: "free" });

    await runMaintenance(env); // the store is back: one run
    expect(await storedFor(fresh!)).toEqual({ plan: "free" });
    // The ones this run had no room for get theirs on the next.
    await runMaintenance(env);
    for (const userId of failedBefore) expect(await pending(userId)).toEqual([]);
  });
});
