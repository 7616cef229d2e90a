import { describe, expect, it } from "vitest";

/**
 * Small modules (CONTRIBUTING.md, "Checks"): no file of the Worker, its browser code or the scripts
 * grows past 400 lines; split it by concept before that. Generated files are not written by hand and
 * are left out (the common-passwords list, the bindings type).
 */
const MAX_LINES = 400;
const GENERATED = new Set(["src/account-security/common-passwords.ts"]);

const sources: Record<string, string> = Object.fromEntries(
  Object.entries(
    import.meta.glob<string>(["../../src/**/*.{ts,tsx}", "../../scripts/**/*.ts"], { query: "?raw", import: "default", eager: true }),
  )
    .map(([path, text]) => [path.slice("../../".length), text] as const)
    .filter(([path]) => !GENERATED.has(path)),
);

describe("source files", () => {
  it("are read (the glob reaches src/ and scripts/)", () => {
    expect(Object.keys(sources)).toContain("src/app.ts");
    expect(Object.keys(sources)).toContain("scripts/build/build-worker.ts");
  });

  it(`hold at most ${MAX_LINES} lines each`, () => {
    const long = Object.entries(sources)
      .map(([path, text]) => ({ path, lines: text.split("\n").length - (text.endsWith("\n") ? 1 : 0) }))
      .filter(({ lines }) => lines > MAX_LINES);
    expect(long).toEqual([]);
  });
});
