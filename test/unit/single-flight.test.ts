import { afterEach, describe, expect, it, vi } from "vitest";
import { SingleFlight } from "../../src/platform/single-flight";

describe("SingleFlight: one call at a time, shared by its outcome", () => {
  afterEach(() => vi.useRealTimers());

  it("callers that find a call in flight get its value (or its error) with one call made, and a failure is not kept", async () => {
    const flight = new SingleFlight<number>(5000);
    let calls = 0;
    let settle!: (ok: boolean) => void;
    const work = () => {
      calls += 1;
      return new Promise<number>((resolve, reject) => (settle = (ok) => (ok ? resolve(calls) : reject(new Error(`call ${calls} failed`)))));
    };
    const ok = [flight.run(work), flight.run(work), flight.run(work)];
    expect(flight.busy()).toBe(true);
    settle(true);
    expect(await Promise.all(ok)).toEqual([1, 1, 1]);
    expect(flight.busy()).toBe(false);

    const failing = [flight.run(work), flight.run(work)];
    settle(false);
    for (const outcome of await Promise.allSettled(failing))
      expect(outcome).toMatchObject({ status: "rejected", reason: { message: "call 2 failed" } });
    const again = flight.run(work);
    settle(true);
    expect(await again).toBe(3);
  });

  it("keys are separate flights", async () => {
    const flight = new SingleFlight<string>(5000);
    expect(await Promise.all([flight.run(async () => "a", "a"), flight.run(async () => "b", "b")])).toEqual(["a", "b"]);
  });

  it("a call that never settles (its request went away) is abandoned after the bound: the next caller makes its own", async () => {
    const flight = new SingleFlight<string>(5000);
    void flight.run(() => new Promise<string>(() => {}));
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 5001);
    expect(flight.busy()).toBe(false);
    expect(await flight.run(async () => "own")).toBe("own");
  });
});
