import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { listPendingPreferences } from "../../src/db/pending-memory-preferences";
import type { Bindings } from "../../src/env";
import { savePreferencesDurably } from "../../src/memory/durable-preferences";
import { runMaintenance } from "../../src/scheduled";
import { registerUser } from "../helpers/identity";
import { call } from "../helpers/pqc";

/**
 * Onboarding's preference writes (savePreferencesDurably) with user memory down and back: the
 * patch is kept in D1, then applied by the cron or by the user's next memory request, in order.
 */

const storeDown = { ...env, MEMORY_DB: env.MEMORY_DB_DOWN } as Bindings;

/** Runs savePreferencesDurably and waits for its background write, as the runtime would. */
async function save(bindings: Bindings, userId: string, patch: Parameters<typeof savePreferencesDurably>[3]) {
  const background: Promise<unknown>[] = [];
  await savePreferencesDurably(bindings, (promise) => background.push(promise), userId, patch);
  await Promise.all(background);
}

const pending = (userId: string) => listPendingPreferences(database(env.DB), userId);
const storedPreferences = async (token: string) => (await call("GET", "/api/memory", { token })).body.items.find((item: { kind: string }) => item.kind === "preferences")?.preferences;

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
    const put = await call("PUT", "/api/memory/preferences", { token: user.accessToken, body: { displayName: "New" } });
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
