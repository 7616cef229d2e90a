/**
 * Exponential backoff with full jitter (a uniformly random wait between zero and the capped
 * exponential), so that many nodes dropped at once do not all come back at the same instant.
 */
export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 30_000 };

/** The wait before reconnect number `attempt` (0 for the first), given `random()` in [0, 1). */
export function fullJitterDelay(attempt: number, options: BackoffOptions = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}
