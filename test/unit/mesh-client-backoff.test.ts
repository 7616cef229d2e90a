import { describe, expect, it } from "vitest";
import { DEFAULT_BACKOFF, fullJitterDelay } from "../../src/clients/mesh/backoff";

describe("fullJitterDelay", () => {
  it("is uniform between zero and the capped exponential", () => {
    const options = { baseMs: 100, maxMs: 1000 };
    expect(fullJitterDelay(0, options, () => 0)).toBe(0);
    expect(fullJitterDelay(0, options, () => 0.999)).toBe(99);
    expect(fullJitterDelay(3, options, () => 0.5)).toBe(400);
    expect(fullJitterDelay(4, options, () => 0.999)).toBe(999);
    expect(fullJitterDelay(40, options, () => 0.999)).toBe(999);
  });

  it("draws a different wait each time with the real random source, never above the cap", () => {
    const waits = Array.from({ length: 50 }, () => fullJitterDelay(10));
    expect(new Set(waits).size).toBeGreaterThan(10);
    expect(Math.max(...waits)).toBeLessThan(DEFAULT_BACKOFF.maxMs);
    expect(Math.min(...waits)).toBeGreaterThanOrEqual(0);
  });
});
