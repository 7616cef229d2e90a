import { DurableObject } from "cloudflare:workers";
import type { Bindings } from "../env";

export interface WindowDecision {
  allowed: boolean;
  remaining: number;
  /** Seconds until an attempt fits again (the window resets, or the bucket holds a token); what a 429's Retry-After says. */
  retryAfterSeconds: number;
}

interface WindowState {
  count: number;
  resetAt: number;
}

interface BucketState {
  /** Tokens left at `updatedAt` (fractional: the bucket refills continuously). */
  tokens: number;
  updatedAt: number;
  /** When the bucket is full again without further takes: from then on the state can go. */
  fullAt: number;
}

const STATE_KEY = "window";
const BUCKET_KEY = "bucket";

/**
 * One limit per key (one object per `idFromName(key)`): a fixed-window counter (`consume`) or a
 * token bucket (`take`), whichever its rule is. A Durable Object is single-threaded, so concurrent
 * attempts are counted exactly; KV could not do this. The state is persisted so that an evicted
 * object still remembers a lockout, and an alarm deletes it when the window ends or the bucket is
 * full again, so idle keys cost no storage.
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

  /**
   * Takes one token from a bucket of `capacity` tokens that refills `refillPerMinute` tokens a
   * minute (continuously), refusing the attempt when less than one token is left; refused attempts
   * take nothing. A burst of `capacity` passes at once, then `refillPerMinute` a minute.
   */
  take(capacity: number, refillPerMinute: number): WindowDecision {
    const now = Date.now();
    const perMs = refillPerMinute / 60_000;
    const stored = this.ctx.storage.kv.get<BucketState>(BUCKET_KEY);
    const tokens = stored ? Math.min(capacity, stored.tokens + (now - stored.updatedAt) * perMs) : capacity;
    if (tokens < 1) return { allowed: false, remaining: 0, retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / perMs / 1000)) };
    const left = tokens - 1;
    const fullAt = now + Math.ceil((capacity - left) / perMs);
    this.ctx.storage.kv.put(BUCKET_KEY, { tokens: left, updatedAt: now, fullAt } satisfies BucketState);
    // Later takes only move fullAt on; the alarm then finds it ahead and waits for it (alarm()).
    if (!stored) void this.ctx.storage.setAlarm(fullAt);
    return { allowed: true, remaining: Math.floor(left), retryAfterSeconds: 1 };
  }

  /** Forgets the window, e.g. after a successful login. */
  reset(): void {
    this.ctx.storage.kv.delete(STATE_KEY);
  }

  override async alarm(): Promise<void> {
    const forgetAt = Math.max(
      this.ctx.storage.kv.get<WindowState>(STATE_KEY)?.resetAt ?? 0,
      this.ctx.storage.kv.get<BucketState>(BUCKET_KEY)?.fullAt ?? 0,
    );
    if (forgetAt > Date.now()) {
      await this.ctx.storage.setAlarm(forgetAt);
      return;
    }
    await this.ctx.storage.deleteAll();
  }
}

/** The limiter object of one rule and key, typed: the binding itself is a plain namespace (src/env.ts). */
export function limiterObject(env: Bindings, name: string): DurableObjectStub<RateLimiter> {
  const namespace = env.LIMITER as DurableObjectNamespace<RateLimiter>;
  return namespace.get(namespace.idFromName(name));
}
