/** What one user may keep in memory; past a limit the request is a 4xx, never a silent truncation. */

/** Characters in one text memory, and in a search query. */
export const MAX_MEMORY_TEXT_CHARS = 2000;
/** Text memories per user (the preferences are one more row, always allowed). */
export const MAX_TEXT_MEMORIES_PER_USER = 500;
/** Nearest items one search returns at most; the default when `k` is left out. */
export const MAX_SEARCH_K = 50;
export const DEFAULT_SEARCH_K = 5;
