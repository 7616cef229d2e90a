import type { Bindings } from "../env";
import type { Embedder } from "./embedder";
import { localEmbedder } from "./local-embedder";
import { workersAiEmbedder } from "./workers-ai-embedder";

/**
 * Workers AI where the `AI` binding exists (production only: `wrangler dev` cannot start with one
 * offline); the deterministic local embedder everywhere else.
 */
export function embedderFor(env: Pick<Bindings, "AI">): Embedder {
  return env.AI ? workersAiEmbedder(env.AI) : localEmbedder;
}
