/** Revocation reaches every isolate within this many seconds unless configured otherwise (docs/api.md, "Verification at the edge"). */
export const DEFAULT_REVOCATION_MAX_STALENESS_SECONDS = 30;

/**
 * A per-isolate cache of revocable state (live sessions, live API keys), so that verification at the
 * edge makes no central read on its hot path while revocation stays bounded:
 *
 * - an entry is trusted for at most `maxStalenessMs` after it was read; past that it is read again
 *   before it is used, so a revocation made anywhere is seen everywhere within the bound;
 * - from half the bound on, a request that uses the entry also re-reads it in the background
 *   (`waitUntil`), so steady traffic keeps its entries fresh without ever waiting on the read;
 * - the isolate that revokes evicts the entry at once (`evict`), so there the bound is zero;
 * - only live state is cached: a refusal is never remembered, so nothing revoked can come back.
 *
 * `maxStalenessMs = 0` is strict mode: no caching, a read on every use.
 */
export class RevocableStateCache<V> {
  readonly #entries = new Map<string, { value: V; readAt: number }>();
  /**
   * When each background refresh in flight started. A refresh whose request was cancelled mid-read
   * never ends (nor runs its `finally`), so one older than the bound no longer stops the next.
   */
  readonly #refreshing = new Map<string, number>();

  constructor(readonly maxEntries = 4096) {}

  /**
   * The state for `key`: from the cache while younger than `maxStalenessMs`, otherwise from `read`
   * (undefined when it is not live). `readAt` lets a caller date a replica's answer earlier than now.
   */
  async get(
    key: string,
    maxStalenessMs: number,
    read: () => Promise<{ value: V; readAt?: number } | undefined>,
    waitUntil: (work: Promise<unknown>) => void,
    refresh: () => Promise<V | undefined> = async () => (await read())?.value,
  ): Promise<V | undefined> {
    if (maxStalenessMs <= 0) return (await read())?.value;
    const now = Date.now();
    const cached = this.#entries.get(key);
    if (cached && now - cached.readAt < maxStalenessMs) {
      if (now - cached.readAt >= maxStalenessMs / 2) waitUntil(this.#refreshInBackground(key, refresh, maxStalenessMs));
      return cached.value;
    }
    const found = await read();
    if (found === undefined) {
      this.#entries.delete(key);
      return undefined;
    }
    this.#remember(key, found.value, found.readAt ?? now);
    return found.value;
  }

  /** Evicts one entry: the isolate that revoked it must not serve it again. */
  evict(key: string): void {
    this.#entries.delete(key);
  }

  /** Evicts every entry whose value matches, for revocations that reach many (a user's sessions). */
  evictWhere(matches: (value: V) => boolean): void {
    for (const [key, { value }] of this.#entries) if (matches(value)) this.#entries.delete(key);
  }

  /** Replaces a cached value in place (keeping its age), for facts this isolate itself just wrote. */
  update(key: string, change: (value: V) => V): void {
    const cached = this.#entries.get(key);
    if (cached) cached.value = change(cached.value);
  }

  /** Forgets everything (tests use it to simulate a fresh isolate). */
  clear(): void {
    this.#entries.clear();
  }

  async #refreshInBackground(key: string, refresh: () => Promise<V | undefined>, maxStalenessMs: number): Promise<void> {
    const readAt = Date.now();
    if (readAt - (this.#refreshing.get(key) ?? -Infinity) < maxStalenessMs) return;
    this.#refreshing.set(key, readAt);
    try {
      const value = await refresh();
      // A revocation seen meanwhile in this isolate (the entry forgotten) wins over this older read.
      if (!this.#entries.has(key)) return;
      if (value === undefined) this.#entries.delete(key);
      else this.#remember(key, value, readAt);
    } catch (error) {
      // The entry ages out by itself; the next use past the bound reads again in the foreground.
      console.warn(JSON.stringify({ msg: "background refresh of revocable state failed", error: String(error) }));
    } finally {
      if (this.#refreshing.get(key) === readAt) this.#refreshing.delete(key);
    }
  }

  #remember(key: string, value: V, readAt: number): void {
    this.#entries.delete(key);
    if (this.#entries.size >= this.maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    this.#entries.set(key, { value, readAt });
  }
}
