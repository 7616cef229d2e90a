import { describe, expect, it } from "vitest";

/**
 * README.md is the map and docs/ holds the detail: the map stays short, it leads to every docs file,
 * and no relative link in either points at a file (or a heading) that is not there.
 */

const ROOT = "../../";
/** The Markdown at the top level and in docs/, by path in the repository (`docs/api.md`), with its text. */
const markdownFiles: Record<string, string> = Object.fromEntries(
  Object.entries(import.meta.glob<string>(["../../*.md", "../../docs/*.md"], { query: "?raw", import: "default", eager: true })).map(
    ([path, text]) => [path.slice(ROOT.length), text],
  ),
);
const readme = markdownFiles["README.md"]!;
const docs = Object.keys(markdownFiles).filter((path) => path.startsWith("docs/"));
/** Every file of the repository by its path; only the names are read (nothing is imported). */
const files = new Set(Object.keys(import.meta.glob(["../../**/*", "!../../node_modules/**"])).map((path) => path.slice(ROOT.length)));

/** The text without fenced code blocks, where `#` starts a comment and `](` may be code. */
function prose(markdown: string): string {
  return markdown.replace(/^```[^\n]*\n[\s\S]*?^```$/gm, "");
}

/** The anchors GitHub gives a file's headings: lower case, punctuation dropped, spaces as hyphens. */
function anchors(markdown: string): Set<string> {
  const headings = [...prose(markdown).matchAll(/^#{1,6} (.+)$/gm)].map((match) => match[1]!);
  return new Set(
    headings.map((heading) =>
      heading
        .toLowerCase()
        .replace(/[^\p{L}\p{N} _-]/gu, "")
        .replaceAll(" ", "-"),
    ),
  );
}

interface Link {
  /** As written, e.g. `../BENCHMARKS.md` or `api.md#error-codes`. */
  target: string;
  /** The file it points at, by its path in the repository; `from` itself for `#anchor`. */
  path: string;
  anchor: string | undefined;
}

/** The relative links (and images) of a file; links with a scheme (`https:`, `mailto:`) are not files here. */
function relativeLinks(from: string, markdown: string): Link[] {
  return [...prose(markdown).matchAll(/\]\(([^)\s]+)\)/g)]
    .map((match) => match[1]!)
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target))
    .map((target) => {
      const [location, anchor] = target.split("#", 2) as [string, string | undefined];
      const path =
        location === "" ? from : decodeURIComponent(new URL(location, `file:///repository/${from}`).pathname.slice("/repository/".length));
      return { target, path, anchor };
    });
}

function exists(path: string): boolean {
  return files.has(path) || (path.endsWith("/") && [...files].some((file) => file.startsWith(path)));
}

describe("README.md is the map of docs/", () => {
  it("is at most 250 lines", () => {
    expect(readme.trimEnd().split("\n").length).toBeLessThanOrEqual(250);
  });

  it("links every docs/*.md file", () => {
    expect(docs.length).toBeGreaterThan(0);
    const linked = new Set(relativeLinks("README.md", readme).map((link) => link.path));
    const unlinked = docs.filter((path) => !linked.has(path));
    expect(unlinked, "docs files README.md does not link").toEqual([]);
  });

  it("has no relative link, in README.md or docs/*.md, to a file or heading that does not exist", () => {
    expect(files.has("README.md")).toBe(true);
    const dead: string[] = [];
    for (const from of ["README.md", ...docs]) {
      for (const { target, path, anchor } of relativeLinks(from, markdownFiles[from]!)) {
        if (!exists(path)) dead.push(`${from}: ${target} (no file ${path})`);
        // Headings are read in the Markdown loaded above; no link here points at deeper Markdown with an anchor.
        else if (anchor !== undefined && path in markdownFiles && !anchors(markdownFiles[path]!).has(anchor)) {
          dead.push(`${from}: ${target} (no heading #${anchor} in ${path})`);
        }
      }
    }
    expect(dead).toEqual([]);
  });
});
