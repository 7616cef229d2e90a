// Builds the Worker bundle that `wrangler dev` and `wrangler deploy` upload (wrangler.toml's [build]):
// esbuild over src/index.ts, minified, with an external source map that wrangler uploads beside it.
//
// Why our own build step rather than wrangler's bundler: zod re-exports every one of its ~50 locales
// (`export * as locales from "../locales/index.js"`, in zod/v4/classic and zod/v4/core), and
// @hono/zod-openapi imports the whole `z` namespace, so no bundler can tree-shake them: they were
// about 360 KiB of a 1.4 MB bundle. They are imported by relative path, which wrangler's `alias`
// cannot reach; an esbuild plugin can. We keep English, the locale zod configures by default.
//
// Tests run on the source (vitest.config.ts sets `main`); the e2e tests and the bench use this bundle.

import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type BuildOptions, build, type Plugin } from "esbuild";
import { pageScriptsForEsbuild } from "./page-scripts.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");
export const OUT_DIR = join(ROOT, "dist");
export const METAFILE = join(OUT_DIR, "meta.json");

/** Resolves zod's all-locales index to a module holding English only. */
const englishOnlyZodLocales: Plugin = {
  name: "english-only-zod-locales",
  setup(esbuild) {
    esbuild.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]node_modules[\\/]zod[\\/]/.test(args.importer)
        ? { path: join(dirname(args.importer), "../locales/en.js"), namespace: "zod-locales" }
        : undefined,
    );
    esbuild.onLoad({ filter: /.*/, namespace: "zod-locales" }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(args.path)};`,
      loader: "js",
      resolveDir: dirname(args.path),
    }));
  },
};

/** How any bundle for workerd is built here (the Worker, and the bench's micro-benchmark Worker). */
export const WORKERD_BUNDLE_OPTIONS: BuildOptions = {
  bundle: true,
  format: "esm",
  platform: "neutral",
  target: "es2024",
  // What wrangler's own bundler resolves for Workers.
  conditions: ["workerd", "worker", "browser"],
  mainFields: ["module", "main"],
  external: ["cloudflare:*", "node:*"],
};

export async function buildWorker() {
  mkdirSync(OUT_DIR, { recursive: true });
  const result = await build({
    ...WORKERD_BUNDLE_OPTIONS,
    entryPoints: [join(ROOT, "src/index.ts")],
    outfile: join(OUT_DIR, "worker.js"),
    minify: true,
    sourcemap: "linked",
    sourcesContent: true,
    metafile: true,
    legalComments: "none",
    logLevel: "warning",
    plugins: [englishOnlyZodLocales, pageScriptsForEsbuild],
  });
  writeFileSync(METAFILE, JSON.stringify(result.metafile));
  return result;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildWorker();
