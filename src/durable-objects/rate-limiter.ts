import { DurableObject } from "cloudflare:workers";

export interface WindowDecision {
  allowed: boolean;
  remaining: number;
  /** Seconds until the window resets; what a 429's Retry-After says. */
  retryAfterSeconds: number;
}

interface WindowState {
  count: number;
  resetAt: number;
}

const STATE_KEY = "window";

/**
 * One fixed-window counter per key (one object per `idFromName(key)`). A Durable Object is
 * single-threaded, so concurrent attempts are counted exactly; KV could not do this.
 * The state is persisted so that an evicted object still remembers a lockout, and an alarm
 * deletes it when the window ends so idle keys cost no storage.
 */
export class RateLimiter extends DurableObject {
  /** Counts one attempt, refusing it once `limit` attempts fell in the current window. */
  consume(limit: number, windowSeconds: number): WindowDecision {
    const now = Date.now();
    let state = this.ctx.storage.kv.get<WindowState>(STATE_KEY);
    if (!state || state.resetAt <= now) {
      state = { count: 0, resetAt: now + windowSeconds * 1000 };
      void this.ctx.storage.setAlarm(state.resetAt);
    }
    const retryAfterSeconds = Math.max(1, Math.ceil((state.resetAt - now) / 1000));
    if (state.count >= limit) return { allowed: false, remaining: 0, retryAfterSeconds };
    state.count += 1;
    this.ctx.storage.kv.put(STATE_KEY, state);
    return { allowed: true, remaining: limit - state.count, retryAfterSeconds };
  }

  /** Forgets the window, e.g. after a successful login. */
  reset(): void {
    this.ctx.storage.kv.delete(STATE_KEY);
  }

  override async alarm(): Promise<void> {
    const state = this.ctx.storage.kv.get<WindowState>(STATE_KEY);
    if (state && state.resetAt > Date.now()) {
      await this.ctx.storage.setAlarm(state.resetAt);
      return;
    }
    await this.ctx.storage.deleteAll();
  }
}
