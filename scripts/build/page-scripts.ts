// The hosted pages' browser code: TypeScript modules under src/pages/client, type-checked against the
// DOM (tsconfig.browser.json), that a page imports as the text of its one inline script:
//
//   import accountScript from "./client/account.ts?script";
//
// Both ways the Worker is loaded resolve that import here, with no build step of their own: the Worker
// bundle (scripts/build/build-worker.ts, for wrangler dev, deploy, the e2e tests and the bench) through the
// esbuild plugin, and the workerd tests, which run the source, through the Vite plugin (vitest.config.ts).
// Both compile the module the same way, by compilePageScript.

import { dirname, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Plugin as EsbuildPlugin } from "esbuild";
import type { Plugin as VitePlugin } from "vitest/config";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
/** Where browser code lives; it may take types from the rest of src (erased), never code. */
const CLIENT_DIR = resolve(ROOT, "src/pages/client");

/** The import suffix that asks for a module's compiled script rather than the module. */
const SCRIPT_SUFFIX = "?script";

/**
 * Compiles one browser module, bundled with what it imports, to the text of one classic inline
 * script, its names kept inside a function (iife) as the hand-written scripts kept theirs. Returns
 * the script and the files it was made from, which the callers watch for changes.
 */
export async function compilePageScript(entry: string): Promise<{ code: string; inputs: string[] }> {
  const result = await build({
    entryPoints: [entry],
    absWorkingDir: ROOT,
    bundle: true,
    format: "iife",
    platform: "browser",
    // The syntax the scripts were written in before they were modules (`??` was the newest), so the
    // same browsers run them; esbuild lowers anything newer a module uses.
    target: "es2020",
    // Not minified, as the hand-written scripts were not: an inline script has no source map, so what
    // a browser shows is what a person reads, and a page serves about the bytes it did. (esbuild drops
    // the comments; the Worker bundle around the script is minified as before.)
    legalComments: "none",
    // The browser program's settings; its `strict` (from tsconfig.json) has esbuild begin the script
    // with "use strict", so it stays as strict as the module it was.
    tsconfig: resolve(ROOT, "tsconfig.browser.json"),
    metafile: true,
    write: false,
    logLevel: "silent",
  });
  const inputs = Object.keys(result.metafile.inputs).map((input) => resolve(ROOT, input));
  // A value import of a Worker module would ship it, and what it imports (zod, say), to every visitor.
  const outside = inputs.filter((input) => !input.startsWith(CLIENT_DIR + sep));
  if (outside.length > 0) throw new Error(`${entry} imports code from outside ${CLIENT_DIR} (use \`import type\`): ${outside.join(", ")}`);
  return { code: result.outputFiles[0]!.text, inputs };
}

/** The ES module that stands for a compiled script: its text as the default export. */
const asModule = (code: string) => `export default ${JSON.stringify(code)};`;

/** For esbuild (scripts/build/build-worker.ts). */
export const pageScriptsForEsbuild: EsbuildPlugin = {
  name: "page-scripts",
  setup(esbuild) {
    esbuild.onResolve({ filter: /\?script$/ }, (args) => ({
      path: resolve(args.resolveDir, args.path.slice(0, -SCRIPT_SUFFIX.length)),
      namespace: "page-script",
    }));
    esbuild.onLoad({ filter: /.*/, namespace: "page-script" }, async (args) => {
      const { code, inputs } = await compilePageScript(args.path);
      return { contents: asModule(code), loader: "js", watchFiles: inputs };
    });
  },
};

/** For Vite, which runs the workerd tests (vitest.config.ts). */
export const pageScriptsForVite: VitePlugin = {
  name: "page-scripts",
  enforce: "pre",
  // Vite names the importer as it likes (a file path, or a root-relative URL such as /src/…), so
  // Vite resolves the module, and the suffix stays on the id for load() to see.
  async resolveId(specifier: string, importer: string | undefined) {
    if (!specifier.endsWith(SCRIPT_SUFFIX)) return null;
    const module = await this.resolve(specifier.slice(0, -SCRIPT_SUFFIX.length), importer, { skipSelf: true });
    return module ? module.id + SCRIPT_SUFFIX : null;
  },
  async load(id: string) {
    if (!id.endsWith(SCRIPT_SUFFIX)) return null;
    const { code, inputs } = await compilePageScript(id.slice(0, -SCRIPT_SUFFIX.length));
    for (const input of inputs) this.addWatchFile(input);
    return asModule(code);
  },
};
