import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { RateLimiter } from "../../src/rate-limit/limiter";

/** A limiter object no other test uses. */
const limiter = () => env.LIMITER.get(env.LIMITER.idFromName(`bucket-test:${crypto.randomUUID()}`));

/** Moves the bucket's last update `ms` into the past, as if that much time had gone by. */
async function age(stub: DurableObjectStub<RateLimiter>, ms: number): Promise<void> {
  await runInDurableObject(stub, (_instance, state) => {
    const bucket = state.storage.kv.get<{ tokens: number; updatedAt: number; fullAt: number }>("bucket")!;
    state.storage.kv.put("bucket", { ...bucket, updatedAt: bucket.updatedAt - ms, fullAt: bucket.fullAt - ms });
  });
}

describe("RateLimiter token bucket (take)", () => {
  it("passes a whole burst at once, then refuses with the seconds until a token is back", async () => {
    const stub = limiter();
    for (let i = 1; i <= 5; i++) expect(await stub.take(5, 6)).toEqual({ allowed: true, remaining: 5 - i, retryAfterSeconds: 1 });
    // 6 a minute: one token every 10 s.
    expect(await stub.take(5, 6)).toMatchObject({ allowed: false, remaining: 0 });
    const refused = await stub.take(5, 6);
    expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(9);
    expect(refused.retryAfterSeconds).toBeLessThanOrEqual(10);
  });

  it("refills at its rate, never above the burst, and refused attempts take nothing", async () => {
    const stub = limiter();
    for (let i = 0; i < 3; i++) await stub.take(3, 60);
    expect((await stub.take(3, 60)).allowed).toBe(false);
    await age(stub, 2_000); // 60 a minute: two tokens back
    expect(await stub.take(3, 60)).toMatchObject({ allowed: true, remaining: 1 });
    expect(await stub.take(3, 60)).toMatchObject({ allowed: true, remaining: 0 });
    expect((await stub.take(3, 60)).allowed).toBe(false);
    await age(stub, 3_600_000); // an hour idle: full, not 3,600 tokens
    for (let i = 0; i < 3; i++) expect((await stub.take(3, 60)).allowed).toBe(true);
    expect((await stub.take(3, 60)).allowed).toBe(false);
  });

  it("forgets a bucket once it is full again (the alarm), and keeps one still refilling", async () => {
    const stub = limiter();
    await stub.take(10, 60);
    await stub.take(10, 60);
    await runInDurableObject(stub, async (instance: RateLimiter, state) => {
      expect(await state.storage.getAlarm()).not.toBeNull();
      await instance.alarm();
      expect(state.storage.kv.get("bucket")).toBeDefined(); // two tokens short for another 2 s
    });
    await age(stub, 3_000);
    await runInDurableObject(stub, async (instance: RateLimiter, state) => {
      await instance.alarm();
      expect(state.storage.kv.get("bucket")).toBeUndefined();
    });
  });
});
