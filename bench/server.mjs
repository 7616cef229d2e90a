// Builds the Worker exactly as a deploy would (`wrangler deploy --dry-run --outdir`) and serves the
// built bundle on bare workerd through Miniflare's API, with the bindings wrangler.toml declares.
// Not `wrangler dev`: its proxy and per-request logging cap even a trivial Worker at ~1k rps.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { METAFILE as WORKER_METAFILE, OUT_DIR as WORKER_OUT_DIR } from "../scripts/build/build-worker.ts";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));
const WRANGLER = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");

function wrangler(args) {
  const result = spawnSync(process.execPath, [WRANGLER, ...args], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, CI: "1", WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", FORCE_COLOR: "0" },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: result.status, output: `${result.stdout ?? ""}${result.stderr ?? ""}`, error: result.error };
}

const KiB = 1024;

/** `wrangler deploy --dry-run --outdir`, then the bundle's size: raw, and gzip measured here with zlib. */
export function buildBundle(outdir) {
  const started = performance.now();
  const metafile = join(outdir, "..", "bundle-meta.json");
  const { status, output, error } = wrangler(["deploy", "--dry-run", "--outdir", outdir, "--metafile", metafile]);
  if (status !== 0) throw new Error(`wrangler deploy --dry-run failed (${status ?? error}):\n${output}`);
  // wrangler uploads our own build as is (no_bundle) and does not copy its source map: the profiler needs it.
  const builtMap = join(WORKER_OUT_DIR, "worker.js.map");
  if (existsSync(builtMap) && !existsSync(join(outdir, "worker.js.map"))) copyFileSync(builtMap, join(outdir, "worker.js.map"));
  const modules = readdirSync(outdir).filter((name) => /\.(m?js|cjs|wasm|bin|txt|html|sql)$/.test(name));
  const main = modules.find((name) => name === "index.js") ?? modules.find((name) => /\.m?js$/.test(name));
  if (!main) throw new Error(`no JavaScript module in ${outdir}:\n${output}`);
  let rawBytes = 0;
  let gzipBytes = 0;
  for (const name of modules) {
    const bytes = readFileSync(join(outdir, name));
    rawBytes += bytes.length;
    gzipBytes += gzipSync(bytes).length; // zlib's default level (6)
  }
  const reported = /Total Upload:\s*([\d.]+)\s*KiB\s*\/\s*gzip:\s*([\d.]+)\s*KiB/.exec(output);
  const startup = /Startup Time:\s*([\d.]+)\s*ms/i.exec(output);
  return {
    outdir,
    main,
    modules,
    // wrangler uploads our own build as is (no_bundle), so the composition is in that build's metafile.
    largestInputs: bundleComposition(existsSync(metafile) ? metafile : WORKER_METAFILE, main),
    rawKiB: rawBytes / KiB,
    gzipKiB: gzipBytes / KiB,
    wranglerReported: reported ? { totalKiB: Number(reported[1]), gzipKiB: Number(reported[2]) } : null,
    wranglerStartupMs: startup ? Number(startup[1]) : null,
    buildSeconds: (performance.now() - started) / 1000,
  };
}

/** What the bundle is made of, from esbuild's metafile: raw bytes per package (or src/ folder). */
export function bundleComposition(metafile, main) {
  try {
    const meta = JSON.parse(readFileSync(metafile, "utf8"));
    const output = Object.entries(meta.outputs).find(([name]) => name.endsWith(main))?.[1];
    if (!output) return null;
    const totals = new Map();
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const parts = input.split("/");
      const nm = parts.lastIndexOf("node_modules");
      const group =
        nm >= 0
          ? parts.slice(nm + 1, nm + (parts[nm + 1]?.startsWith("@") ? 3 : 2)).join("/")
          : parts.slice(0, parts[0] === "src" ? 2 : 1).join("/");
      totals.set(group, (totals.get(group) ?? 0) + bytesInOutput);
    }
    const all = [...totals.values()].reduce((a, b) => a + b, 0);
    return [...totals]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 12)
      .map(([what, bytes]) => ({ what, rawKiB: Math.round((bytes / KiB) * 10) / 10, share: Math.round((bytes / all) * 1000) / 1000 }));
  } catch {
    return null;
  }
}

/**
 * `wrangler check startup`: wrangler's own local startup profile of the Worker (it builds the
 * Worker again and samples its top-level evaluation in workerd). Local figures, not Cloudflare's.
 */
export function startupProfile(outfile) {
  const { status, output } = wrangler(["check", "startup", "--outfile", outfile]);
  const number = (label) => {
    const match = new RegExp(`${label}:\\s*([\\d.]+)\\s*ms`).exec(output);
    return match ? Number(match[1]) : null;
  };
  if (status !== 0 || !existsSync(outfile)) {
    return { available: false, reason: `wrangler check startup exited ${status}`, output: output.slice(-2000) };
  }
  return {
    available: true,
    activeMs: number("Active"),
    profileWindowMs: number("Profile window"),
    garbageCollectionMs: Number((/including ([\d.]+) ms garbage collection/.exec(output) ?? [])[1] ?? NaN) || null,
    profile: outfile,
  };
}

/** The pids of the workerd processes this Node process started (Linux /proc), for CPU accounting. */
export function childWorkerdPids() {
  if (!existsSync("/proc")) return [];
  const pids = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const comm = stat.slice(stat.indexOf("(") + 1, close);
      const ppid = Number(stat.slice(close + 2).split(" ")[1]);
      if (comm === "workerd" && ppid === process.pid) pids.push(Number(entry));
    } catch {
      // the process went away while we looked
    }
  }
  return pids;
}

const CLOCK_TICKS = 100; // USER_HZ on Linux

/** CPU seconds (user + system) a process has used so far; null where /proc is not available. */
export function processCpuSeconds(pid) {
  if (!pid) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

/** Applies migrations/*.sql in order, statement by statement (drizzle's `--> statement-breakpoint`). */
async function applyMigrations(db) {
  const dir = join(ROOT, "migrations");
  const files = readdirSync(dir)
    .filter((name) => name.endsWith(".sql") && statSync(join(dir, name)).isFile())
    .sort();
  let statements = 0;
  for (const file of files) {
    for (const sql of readFileSync(join(dir, file), "utf8").split("--> statement-breakpoint")) {
      if (!sql.trim()) continue;
      await db.prepare(sql.trim()).run();
      statements++;
    }
  }
  return { files, statements };
}

/**
 * Collects what the Worker logs (workerd's structured logs) instead of printing it: a flood of
 * lines would drown the table. Counted per level, with the first distinct messages kept.
 */
function logCollector() {
  const counts = { error: 0, warn: 0, other: 0 };
  const samples = new Map();
  const handle = ({ level, message }) => {
    const bucket = level === "error" ? "error" : level === "warn" ? "warn" : "other";
    counts[bucket]++;
    if (bucket === "other") return;
    const key = String(message)
      .replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, "<uuid>")
      .slice(0, 400);
    const entry = samples.get(key);
    if (entry) entry.count++;
    else if (samples.size < 20) samples.set(key, { level, message: key, count: 1 });
  };
  return {
    handle,
    snapshot: () => ({ ...counts }),
    since: (before) => ({ errors: counts.error - before.error, warnings: counts.warn - before.warn, other: counts.other - before.other }),
    summary: () => ({ errors: counts.error, warnings: counts.warn, other: counts.other, samples: [...samples.values()] }),
  };
}

/**
 * A tiny Durable Object that stands in for the audit ledger (`LEDGER`) in the `ledger-off` variant:
 * it acknowledges every append at once (no SQLite row, no hash, no receipt, no export to D1), so
 * login with it against login with the real ledger is the ledger's own cost. The RPC hop to an
 * object stays, as it would for any ledger.
 */
export const LEDGER_STUB_SCRIPT = `import { DurableObject } from "cloudflare:workers";
const ZERO = "0".repeat(64);
export class StubLedger extends DurableObject {
  seq = 0;
  async append() { this.seq += 1; return { seq: this.seq, hash: ZERO, receipt: null }; }
  async flush() { return this.head(); }
  head() { return { seq: this.seq, hash: ZERO }; }
}
export default { fetch: () => new Response("bench ledger stub", { status: 404 }) };
`;
export const LEDGER_STUB_WORKER = "bench-ledger-stub";
export const MAIN_WORKER = "headykey-edge";

/**
 * Serves the built bundle on workerd with wrangler.toml's bindings (D1, KV, Durable Objects,
 * [vars]) as wrangler itself maps them, plus the bench secrets. The load goes to a direct socket
 * on the Worker, skipping Miniflare's entry Worker (which costs more CPU than a bare Hono route).
 *
 * `variants` are more copies of the same bundle in the same workerd process, each with its own
 * direct socket, some bindings overridden (`bindings`, `durableObjects`) and its own Durable
 * Object namespaces; D1 and KV are shared with the main Worker (same ids), so accounts made
 * through one are valid on the others. One process means one CPU account and one scheduler for
 * a comparison such as PULSE_AUTH_MODE=stub against token, or the ledger on against off.
 * An idle variant costs nothing but memory.
 */
export async function startWorker(bundle, extraBindings, { inspector = false, variants = [] } = {}) {
  const { unstable_getMiniflareWorkerOptions } = await import("wrangler");
  const { workerOptions } = unstable_getMiniflareWorkerOptions(join(ROOT, "wrangler.toml"));
  const started = performance.now();
  const logs = logCollector();
  // wrangler's modulesRules are for finding modules in source; the bundle lists its own.
  const { modulesRules: _rules, rootPath: _root, ...options } = workerOptions;
  const typeOf = (name) =>
    /\.m?js$/.test(name)
      ? "ESModule"
      : name.endsWith(".cjs")
        ? "CommonJS"
        : name.endsWith(".wasm")
          ? "CompiledWasm"
          : name.endsWith(".bin")
            ? "Data"
            : "Text";
  const ordered = [bundle.main, ...bundle.modules.filter((name) => name !== bundle.main)];
  const worker = (name, overrides = {}) => ({
    ...options,
    name,
    modules: ordered.map((file) => ({ type: typeOf(file), path: join(bundle.outdir, file) })),
    modulesRoot: bundle.outdir,
    bindings: { ...workerOptions.bindings, ...extraBindings, ...overrides.bindings },
    durableObjects: { ...workerOptions.durableObjects, ...overrides.durableObjects },
    // The limiter keys on CF-Connecting-IP; keep the header the load generator sets.
    stripCfConnectingIp: false,
    unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
  });
  const workers = [worker(MAIN_WORKER), ...variants.map((variant) => worker(`${MAIN_WORKER}-${variant.name}`, variant))];
  if (
    variants.some((variant) => Object.values(variant.durableObjects ?? {}).some((binding) => binding.scriptName === LEDGER_STUB_WORKER))
  ) {
    workers.push({
      name: LEDGER_STUB_WORKER,
      modules: [{ type: "ESModule", path: "stub-ledger.mjs", contents: LEDGER_STUB_SCRIPT }],
      compatibilityDate: workerOptions.compatibilityDate,
      compatibilityFlags: workerOptions.compatibilityFlags,
      // A namespace is defined by the script that binds its class.
      durableObjects: { LEDGER: { className: "StubLedger" } },
    });
  }
  const pidsBefore = new Set(childWorkerdPids());
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      host: "127.0.0.1",
      port: 0,
      logRequests: false,
      handleStructuredLogs: logs.handle,
      ...(inspector ? { inspectorPort: 0, inspectorHost: "127.0.0.1" } : {}),
      workers,
    }),
  );
  await mf.ready;
  const url = await mf.unsafeGetDirectURL(MAIN_WORKER);
  const variantUrls = {};
  for (const variant of variants) variantUrls[variant.name] = (await mf.unsafeGetDirectURL(`${MAIN_WORKER}-${variant.name}`)).origin;
  const inspectorUrl = inspector ? await mf.getInspectorURL() : null;
  const migrations = await applyMigrations(await mf.getD1Database("DB", MAIN_WORKER));
  const pids = childWorkerdPids().filter((pid) => !pidsBefore.has(pid));
  return {
    mf,
    logs,
    inspectorUrl,
    baseUrl: url.origin,
    variantUrls,
    variants: variants.map(({ name, about, bindings = {}, durableObjects = {} }) => ({
      name,
      about,
      bindings: Object.fromEntries(
        Object.entries(bindings).map(([key, value]) => [key, typeof value === "string" ? value : JSON.stringify(value)]),
      ),
      durableObjects: Object.fromEntries(
        Object.entries(durableObjects).map(([key, value]) => [
          key,
          value.scriptName ? `${value.scriptName}:${value.className}` : value.className,
        ]),
      ),
    })),
    workerdPid: pids.length === 1 ? pids[0] : null,
    compatibilityDate: workerOptions.compatibilityDate,
    compatibilityFlags: workerOptions.compatibilityFlags ?? [],
    bindingNames: {
      d1: Object.keys(workerOptions.d1Databases ?? {}),
      kv: Object.keys(workerOptions.kvNamespaces ?? {}),
      durableObjects: Object.fromEntries(
        Object.entries(workerOptions.durableObjects ?? {}).map(([name, value]) => [
          name,
          typeof value === "string" ? value : value.className,
        ]),
      ),
      vars: Object.keys(workerOptions.bindings ?? {}),
      secrets: Object.keys(extraBindings),
    },
    migrations,
    startSeconds: (performance.now() - started) / 1000,
  };
}

export function workerdVersion() {
  const bin = join(ROOT, "node_modules", ".bin", "workerd");
  const result = existsSync(bin) ? spawnSync(bin, ["--version"], { encoding: "utf8" }) : null;
  const fromBinary = result?.stdout?.trim();
  let fromPackage = null;
  try {
    fromPackage = JSON.parse(readFileSync(join(ROOT, "node_modules", "workerd", "package.json"), "utf8")).version;
  } catch {
    // not hoisted
  }
  const binary = fromBinary?.replace(/^workerd\s+/, "");
  if (fromPackage && binary) return `${fromPackage} (${binary})`;
  return fromPackage || binary || "unknown";
}

export function packageVersion(name) {
  try {
    return JSON.parse(readFileSync(join(ROOT, "node_modules", name, "package.json"), "utf8")).version;
  } catch {
    return null;
  }
}
