import { UnavailableError } from "../errors";
import { EMBEDDING_DIMENSIONS, type Embedder } from "./embedder";

/** BAAI bge-small-en-v1.5 on Workers AI: 384 dimensions, as user_memory_t2 stores them. */
export const WORKERS_AI_EMBEDDING_MODEL = "@cf/baai/bge-small-en-v1.5";

/** The production embedder. A failed or malformed answer is an outage of the embedder (503), never a 500. */
export function workersAiEmbedder(ai: Ai): Embedder {
  return {
    model: WORKERS_AI_EMBEDDING_MODEL,
    async embed(texts) {
      let result: { data?: number[][] };
      try {
        result = (await ai.run(WORKERS_AI_EMBEDDING_MODEL, { text: [...texts] })) as { data?: number[][] };
      } catch (error) {
        throw new UnavailableError("embedder", `Workers AI failed: ${String(error)}`, { cause: error });
      }
      const vectors = result.data;
      if (!vectors || vectors.length !== texts.length || vectors.some((vector) => vector.length !== EMBEDDING_DIMENSIONS)) {
        throw new UnavailableError("embedder", `Workers AI answered no ${EMBEDDING_DIMENSIONS}-D vector per text`);
      }
      return vectors;
    },
  };
}
