/** Every embedding in user memory has this many dimensions (`vector(384)` in user_memory_t2). */
export const EMBEDDING_DIMENSIONS = 384;

/** Turns texts into unit-length vectors of EMBEDDING_DIMENSIONS, where similar texts are near. */
export interface Embedder {
  /** Stored beside each embedding, so vectors of different models are never silently compared. */
  readonly model: string;
  /** One vector per text, in order. */
  embed(texts: readonly string[]): Promise<number[][]>;
}
