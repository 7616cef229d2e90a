/** How often a caller that found a call in flight looks for its outcome. */
const POLL_MS = 10;

type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

interface Flight<T> {
  startedAt: number;
  outcome?: Outcome<T>;
}

/**
 * One call at a time per isolate (and key), shared across requests by its outcome, never by its
 * promise. In workerd a promise that waits on I/O belongs to the request that started it: another
 * request that awaits it fails with `Promise will never complete.` once that request is cancelled
 * (issue 22, item 13). So a caller that finds a call in flight waits for the outcome on its own
 * timer, then takes the value or the error; a call still in flight after `abandonAfterMs` was
 * abandoned (a request cancelled mid-await never records an outcome), and the next caller makes
 * its own. Caching the value for later callers is the caller's part: this only shares a call.
 */
export class SingleFlight<T> {
  readonly #flights = new Map<string, Flight<T>>();

  /** `abandonAfterMs`: longer than the call can take while its request lives (its own timeouts included). */
  constructor(
    readonly abandonAfterMs: number,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** True while a call for `key` is in flight and not abandoned. */
  busy(key = ""): boolean {
    const flight = this.#flights.get(key);
    return flight !== undefined && this.now() - flight.startedAt < this.abandonAfterMs;
  }

  /** `work`'s value (or error): this call's, or that of the call for `key` already in flight. */
  async run(work: () => Promise<T>, key = ""): Promise<T> {
    const current = this.#flights.get(key);
    if (current && this.busy(key)) {
      while (!current.outcome && this.now() - current.startedAt < this.abandonAfterMs) {
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
      if (current.outcome?.ok) return current.outcome.value;
      if (current.outcome) throw current.outcome.error;
    }
    const flight: Flight<T> = { startedAt: this.now() };
    this.#flights.set(key, flight);
    try {
      const value = await work();
      flight.outcome = { ok: true, value };
      return value;
    } catch (error) {
      flight.outcome = { ok: false, error };
      throw error;
    } finally {
      if (this.#flights.get(key) === flight) this.#flights.delete(key);
    }
  }
}
