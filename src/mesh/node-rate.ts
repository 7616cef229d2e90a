/**
 * The mesh's rate rule (`MESH_RATE_LIMIT_PER_MINUTE` in docs/configuration.md: 1,000 pulses a minute by default),
 * per node within one topic object.
 *
 * A sliding window estimated from two fixed one-minute windows: the previous window's count,
 * weighted by how much of it still overlaps the last 60 s, plus the current one's. Everything is
 * computed from timestamps when a pulse arrives; there is no timer, so the object can hibernate.
 * The counts live in memory: an object only hibernates after it has been idle, at which point a
 * node's recent rate is low anyway.
 */
export const RATE_WINDOW_MS = 60_000;

interface NodeWindow {
  start: number;
  current: number;
  previous: number;
  /** The window in which the node was last flagged, so it is flagged once per window. */
  flaggedIn: number | null;
}

export interface RateVerdict {
  /** Accepting this pulse would take the node over the limit. */
  over: boolean;
  /** This is the first pulse over the limit in this window: the moment to flag (audit) the node. */
  flag: boolean;
}

/** Per-node pulse counts of one topic object, judged against `limitPerWindow` pulses a minute. */
export class NodeRate {
  private readonly windows = new Map<string, NodeWindow>();

  constructor(private readonly limitPerWindow: number) {}

  /**
   * Judges one pulse from `nodeId` at `now` without counting it. The caller counts the pulses it
   * delivers (`count`), so a throttled node still gets `limit` pulses a minute through, not none.
   */
  check(nodeId: string, now: number): RateVerdict {
    const window = this.advance(nodeId, now);
    const overlap = Math.max(0, RATE_WINDOW_MS - (now - window.start)) / RATE_WINDOW_MS;
    const estimate = window.previous * overlap + window.current;
    if (estimate + 1 <= this.limitPerWindow) return { over: false, flag: false };
    const flag = window.flaggedIn !== window.start;
    window.flaggedIn = window.start;
    return { over: true, flag };
  }

  /** Counts one accepted pulse. */
  count(nodeId: string, now: number): void {
    this.advance(nodeId, now).current += 1;
  }

  private advance(nodeId: string, now: number): NodeWindow {
    const start = now - (now % RATE_WINDOW_MS);
    let window = this.windows.get(nodeId);
    if (!window) {
      window = { start, current: 0, previous: 0, flaggedIn: null };
      this.windows.set(nodeId, window);
    } else if (window.start !== start) {
      // One window on: the current count becomes the previous. Further on: both are stale.
      window.previous = start - window.start === RATE_WINDOW_MS ? window.current : 0;
      window.current = 0;
      window.start = start;
    }
    return window;
  }

  /** Forgets a node that has no socket left here. */
  forget(nodeId: string): void {
    this.windows.delete(nodeId);
  }
}
