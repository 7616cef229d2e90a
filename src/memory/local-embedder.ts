import { EMBEDDING_DIMENSIONS, type Embedder } from "./embedder";

/**
 * The deterministic local embedder, for `wrangler dev` and the tests: feature hashing of a text's
 * words and of the character trigrams of each word, signed, into 384 dimensions, L2-normalised.
 * Texts that share words or word pieces are near in cosine distance; it knows no synonyms, so it
 * stands in for a language model in development and never in production.
 */

export const LOCAL_EMBEDDER_MODEL = "local-hashed-ngrams-384-v1";

const encoder = new TextEncoder();

/** 32-bit FNV-1a over the UTF-8 bytes, from `seed`: the same on every runtime. */
function fnv1a(text: string, seed: number): number {
  let hash = seed >>> 0;
  for (const byte of encoder.encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}
const INDEX_SEED = 0x811c9dc5;
const SIGN_SEED = 0x2545f491;

/** Lower-cased words of letters and digits (NFKC, so compatibility forms count as one). */
function words(text: string): string[] {
  return (
    text
      .normalize("NFKC")
      .toLowerCase()
      .match(/[\p{L}\p{N}]+/gu) ?? []
  );
}

/** Each word whole (weight 1) and its trigrams with boundary marks (weight 0.5 each). */
function features(text: string): [string, number][] {
  const out: [string, number][] = [];
  for (const word of words(text)) {
    out.push([`w:${word}`, 1]);
    const padded = [...`^${word}$`];
    for (let i = 0; i + 3 <= padded.length; i++) out.push([`t:${padded.slice(i, i + 3).join("")}`, 0.5]);
  }
  return out;
}

/** The vector of one text: unit length; a text without letters or digits gets the first axis. */
export function embedLocally(text: string): number[] {
  const vector = new Array<number>(EMBEDDING_DIMENSIONS).fill(0);
  for (const [feature, weight] of features(text)) {
    // The top bit: FNV-1a's lowest bit is only the parity of the bytes.
    const sign = fnv1a(feature, SIGN_SEED) >>> 31 ? -1 : 1;
    vector[fnv1a(feature, INDEX_SEED) % EMBEDDING_DIMENSIONS]! += sign * weight;
  }
  const norm = Math.hypot(...vector);
  if (norm === 0) {
    vector[0] = 1;
    return vector;
  }
  return vector.map((value) => value / norm);
}

export const localEmbedder: Embedder = {
  model: LOCAL_EMBEDDER_MODEL,
  embed: (texts) => Promise.resolve(texts.map(embedLocally)),
};
