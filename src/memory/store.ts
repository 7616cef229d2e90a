import type { Preferences } from "./preference-schemas";

export type MemoryKind = "preferences" | "text";

/** One item of a user's memory, as the API shows it. */
export interface MemoryItem {
  id: string;
  kind: MemoryKind;
  /** The text memory, or the text rendering of the preferences that was embedded. */
  content: string;
  /** The structured preferences (kind `preferences`), else null. */
  preferences: Preferences | null;
  createdAt: string;
  updatedAt: string;
}

/** A search hit: `distance` is the cosine distance to the query (0 identical, 2 opposite). */
export interface ScoredMemoryItem extends MemoryItem {
  distance: number;
}

/** A vector and the model that made it. */
export interface Embedding {
  vector: number[];
  model: string;
}

/** What becomes of the preferences row: the merged preferences, their text and its embedding. */
export interface PreferencesRow {
  preferences: Preferences;
  content: string;
  embedding: Embedding;
}

/**
 * A user's memory. Every method takes the user id and touches that user's items only; the caller
 * (the route) passes the authenticated principal's id, never one from the request.
 */
export interface MemoryStore {
  /**
   * Replaces the preferences row with what `update` makes of the current preferences (null if
   * none), or leaves it if `update` answers null. Updates of one user are serialised, so
   * concurrent partial updates are never lost.
   */
  updatePreferences(userId: string, update: (current: Preferences | null) => Promise<PreferencesRow | null>): Promise<MemoryItem | null>;
  /** Adds a text memory, unless the user already holds `maxItems` of them: then null. */
  addText(userId: string, content: string, embedding: Embedding, maxItems: number): Promise<MemoryItem | null>;
  /** Every item of the user, newest first. */
  list(userId: string): Promise<MemoryItem[]>;
  /** The user's `k` items nearest to `embedding` (same model only), nearest first. */
  search(userId: string, embedding: Embedding, k: number): Promise<ScoredMemoryItem[]>;
  /** Deletes one item of the user; false if the user has no such item. */
  delete(userId: string, id: string): Promise<boolean>;
  /** Deletes every item of the user; how many there were. */
  deleteAll(userId: string): Promise<number>;
  /** How many text memories the user holds. */
  count(userId: string): Promise<number>;
}
