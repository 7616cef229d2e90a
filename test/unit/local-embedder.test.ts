import { describe, expect, it } from "vitest";
import { EMBEDDING_DIMENSIONS } from "../../src/memory/embedder";
import { embedLocally, LOCAL_EMBEDDER_MODEL, localEmbedder } from "../../src/memory/local-embedder";

const cosineDistance = (a: number[], b: number[]) => 1 - a.reduce((sum, value, i) => sum + value * b[i]!, 0);
const norm = (vector: number[]) => Math.hypot(...vector);

describe("the deterministic local embedder", () => {
  it("gives 384 dimensions of unit length", () => {
    for (const text of ["hello", "A much longer text about hiking in the Alps, with numbers 1 2 3.", "日本語のテキスト", "!!!", ""]) {
      const vector = embedLocally(text);
      expect(vector).toHaveLength(EMBEDDING_DIMENSIONS);
      expect(norm(vector)).toBeCloseTo(1, 10);
      expect(vector.every(Number.isFinite)).toBe(true);
    }
  });

  it("is deterministic: the same text, the same vector, every time", async () => {
    expect(embedLocally("I love hiking")).toEqual(embedLocally("I love hiking"));
    const [a, b] = await localEmbedder.embed(["I love hiking", "I love hiking"]);
    expect(a).toEqual(b);
    expect(localEmbedder.model).toBe(LOCAL_EMBEDDER_MODEL);
    // Pinned: a change to the hashing would silently make stored vectors incomparable (bump the model name then).
    const nonZero = embedLocally("pinned").flatMap((value, index) => (value === 0 ? [] : [[index, Number(value.toFixed(6))]]));
    expect(nonZero).toEqual([
      [18, 0.316228],
      [146, 0.316228],
      [174, -0.316228],
      [194, -0.316228],
      [218, 0.316228],
      [230, -0.632456],
      [252, -0.316228],
    ]);
  });

  it("ignores case, punctuation and spacing", () => {
    expect(embedLocally("Hiking, in the ALPS!")).toEqual(embedLocally("hiking in   the alps"));
  });

  it("puts similar texts nearer than unrelated ones", () => {
    const hiking = embedLocally("I love hiking in the mountains");
    const hikes = embedLocally("we went on mountain hikes");
    const taxes = embedLocally("quarterly tax return deadline");
    expect(cosineDistance(hiking, hikes)).toBeLessThan(cosineDistance(hiking, taxes));
    expect(cosineDistance(embedLocally("python programming"), embedLocally("programming in python"))).toBeLessThan(
      cosineDistance(embedLocally("python programming"), embedLocally("gardening tomatoes")),
    );
  });
});
