import { afterEach, describe, expect, it, vi } from "vitest";
import { RevocableStateCache } from "../../src/credentials/revocable-state-cache";

describe("RevocableStateCache: background refreshes", () => {
  afterEach(() => vi.useRealTimers());

  it("a refresh that never ends (its request was cancelled mid-read) stops background refreshes of its key for one bound, not for good", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const start = Date.now();
    const cache = new RevocableStateCache<string>();
    const bound = 1000;
    const background: Promise<unknown>[] = [];
    const waitUntil = (work: Promise<unknown>) => background.push(work);
    const read = async () => ({ value: "live" });
    let refreshes = 0;
    const hanging = () => {
      refreshes += 1;
      return new Promise<string | undefined>(() => {});
    };
    const answering = async () => {
      refreshes += 1;
      return "live";
    };

    expect(await cache.get("k", bound, read, waitUntil)).toBe("live");
    vi.setSystemTime(start + 600); // past half the bound: a background refresh, which never ends
    await cache.get("k", bound, read, waitUntil, hanging);
    expect(refreshes).toBe(1);
    vi.setSystemTime(start + 800); // one in flight: none more
    await cache.get("k", bound, read, waitUntil, answering);
    expect(refreshes).toBe(1);

    vi.setSystemTime(start + 1100); // past the bound: read in the foreground
    await cache.get("k", bound, read, waitUntil, answering);
    vi.setSystemTime(start + 1700); // past half the bound again: the stuck refresh no longer counts
    await cache.get("k", bound, read, waitUntil, answering);
    await Promise.race([Promise.all(background.slice(2)), new Promise((resolve) => setTimeout(resolve, 100))]);
    expect(refreshes).toBe(2);
  });
});
