import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { guardD1, guardKv } from "../../src/db/guard";
import { UnavailableError } from "../../src/errors";

/** What the guard makes of real D1 and KV errors: our mistakes stay bugs (500), outages become UnavailableError (503). */

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error("the call succeeded");
    },
    (error: unknown) => error,
  );
}

describe("guardD1 over the real D1", () => {
  it("passes results through: a query, a batch", async () => {
    const d1 = guardD1(env.DB);
    expect(await d1.prepare("SELECT ? AS one").bind(1).first("one")).toBe(1);
    const [a, b] = await d1.batch([d1.prepare("SELECT 1 AS n"), d1.prepare("SELECT ? AS n").bind(2)]);
    expect([a!.results, b!.results]).toEqual([[{ n: 1 }], [{ n: 2 }]]);
  });

  it("a statement that is wrong is a bug, not an outage: no such table, a syntax error, a constraint, an unsupported value", async () => {
    const d1 = guardD1(env.DB);
    for (const run of [
      // Each built inside the promise chain: D1 may refuse a value while binding, synchronously.
      () => d1.prepare("SELECT * FROM no_such_table").all(),
      () => d1.prepare("SELEC 1").first(),
      () => d1.prepare("INSERT INTO users (id) VALUES ('x')").run(),
      () =>
        d1
          .prepare("SELECT ?")
          .bind(undefined as unknown as null)
          .all(),
    ]) {
      const error = await failure(Promise.resolve().then(run as () => Promise<unknown>));
      expect(error).toBeInstanceOf(Error);
      expect(error).not.toBeInstanceOf(UnavailableError);
    }
  });

  it("an outage is an UnavailableError naming D1, with the runtime's error as its cause", async () => {
    const lost = new Error("D1_ERROR: Network connection lost.");
    const d1 = guardD1({
      prepare: () => ({ bind: () => ({}), first: () => Promise.reject(lost) }),
      batch: () => Promise.reject(lost),
    } as unknown as D1Database);
    const error = await failure(d1.prepare("SELECT 1").first());
    expect(error).toBeInstanceOf(UnavailableError);
    expect((error as UnavailableError).dependency).toBe("d1");
    expect((error as UnavailableError).cause).toBe(lost);
    expect(await failure(d1.batch([]))).toBeInstanceOf(UnavailableError);
  });
});

describe("guardKv over the real KV", () => {
  it("passes reads and writes through", async () => {
    const kv = guardKv(env.CACHE);
    const key = `guard-test:${crypto.randomUUID()}`;
    await kv.put(key, "value");
    expect(await kv.get(key)).toBe("value");
  });

  it("a key KV refuses (over 512 bytes: a 414) is our bug, not an outage", async () => {
    const error = await failure(guardKv(env.CACHE).get("k".repeat(600)));
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(UnavailableError);
  });

  it("KV answering 503 or 429, or failing without a status, is an UnavailableError naming KV", async () => {
    for (const message of ["KV GET failed: 503 Service Unavailable", "KV PUT failed: 429 Too Many Requests", "Network connection lost."]) {
      const kv = guardKv({ get: () => Promise.reject(new Error(message)) } as unknown as KVNamespace);
      const error = await failure(kv.get("key"));
      expect(error).toBeInstanceOf(UnavailableError);
      expect((error as UnavailableError).dependency).toBe("kv");
    }
  });
});
