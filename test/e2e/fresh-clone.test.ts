import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * What a fresh clone in an empty folder needs: nothing outside the repository, and a lockfile that
 * `npm ci` accepts on any OS. Both broke once (tests imported vectors from a folder beside the checkout; the lockfile lacked
 * workerd's packages for macOS and Windows), and neither shows on a developer's machine.
 */
const ROOT = resolve(import.meta.dirname, "../..");
const SOURCE_FOLDERS = ["src", "test", "scripts", "bench"];

function sourceFiles(folder: string): string[] {
  return readdirSync(join(ROOT, folder), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && /\.(m?[jt]s)$/.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name));
}

/** Relative specifiers in import/export statements, dynamic imports and path literals like "../x/y". */
function relativeReferences(source: string): string[] {
  return [...source.matchAll(/["'](\.\.?\/[^"'\s]+)["']/g)].map((match) => match[1]!);
}

describe("a fresh clone", () => {
  it("reads nothing from outside the repository", () => {
    const outside: string[] = [];
    for (const folder of SOURCE_FOLDERS) {
      for (const file of sourceFiles(folder)) {
        for (const reference of relativeReferences(readFileSync(file, "utf8"))) {
          if (relative(ROOT, resolve(dirname(file), reference)).startsWith("..")) outside.push(`${relative(ROOT, file)}: ${reference}`);
        }
      }
    }
    expect(outside).toEqual([]);
  });

  it("has a lockfile with every optional platform package, so npm ci passes on any OS", () => {
    const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as {
      packages: Record<string, { optionalDependencies?: Record<string, string> }>;
    };
    const missing: string[] = [];
    for (const [path, entry] of Object.entries(lock.packages)) {
      for (const name of Object.keys(entry.optionalDependencies ?? {})) {
        // npm resolves a dependency from the nearest node_modules up the tree, as the lockfile records it.
        const candidates = [`${path}/node_modules/${name}`, `node_modules/${name}`];
        if (!candidates.some((candidate) => candidate in lock.packages)) missing.push(`${path || "(root)"} → ${name}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
