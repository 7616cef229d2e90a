import { describe, expect, it } from "vitest";
import { NodeRate, RATE_WINDOW_MS } from "../../src/mesh/node-rate";

/** A window start far from zero, like a real clock. */
const T0 = 1_800_000 * RATE_WINDOW_MS;

function fill(rate: NodeRate, node: string, count: number, at: number) {
  for (let i = 0; i < count; i++) {
    expect(rate.check(node, at).over).toBe(false);
    rate.count(node, at);
  }
}

describe("NodeRate", () => {
  it("allows exactly the limit in a window, then flags once and stays over", () => {
    const rate = new NodeRate(10);
    fill(rate, "a", 10, T0 + 1000);
    expect(rate.check("a", T0 + 2000)).toEqual({ over: true, flag: true });
    expect(rate.check("a", T0 + 3000)).toEqual({ over: true, flag: false });
  });

  it("keeps nodes apart", () => {
    const rate = new NodeRate(3);
    fill(rate, "a", 3, T0);
    expect(rate.check("b", T0).over).toBe(false);
  });

  it("weights the previous window by how much of it still overlaps the last minute", () => {
    const rate = new NodeRate(10);
    fill(rate, "a", 10, T0 + RATE_WINDOW_MS - 1);
    // 10 % into the next window: 90 % of the previous 10 still count, so 9 used, 1 left.
    const tenPercentIn = T0 + RATE_WINDOW_MS + RATE_WINDOW_MS / 10;
    expect(rate.check("a", tenPercentIn).over).toBe(false);
    rate.count("a", tenPercentIn);
    expect(rate.check("a", tenPercentIn).over).toBe(true);
    // Half way through, half of the previous window counts: 5 + 1 used.
    expect(rate.check("a", T0 + RATE_WINDOW_MS * 1.5).over).toBe(false);
  });

  it("flags again in a later window", () => {
    const rate = new NodeRate(2);
    fill(rate, "a", 2, T0);
    expect(rate.check("a", T0).flag).toBe(true);
    fill(rate, "a", 2, T0 + 2 * RATE_WINDOW_MS);
    expect(rate.check("a", T0 + 2 * RATE_WINDOW_MS).flag).toBe(true);
  });

  it("forgets everything about a window two or more windows old", () => {
    const rate = new NodeRate(5);
    fill(rate, "a", 5, T0);
    fill(rate, "a", 5, T0 + 2 * RATE_WINDOW_MS);
  });

  it("forgets a node on request", () => {
    const rate = new NodeRate(1);
    fill(rate, "a", 1, T0);
    rate.forget("a");
    expect(rate.check("a", T0).over).toBe(false);
  });
});
