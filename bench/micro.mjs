// Micro-benchmarks inside workerd: bundles bench/micro-worker.mjs (which imports the project's own
// crypto code) with esbuild, runs it through Miniflare, and times each operation in batches.

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { WORKERD_BUNDLE_OPTIONS } from "../scripts/build/build-worker.ts";
import { childWorkerdPids, processCpuSeconds } from "./server.mjs";

const HERE = fileURLToPath(new URL(".", import.meta.url));
const ROOT = join(HERE, "..");

/** Resolves `bench-optional:*` imports to the package when it is installed, else to `null` exports. */
const optionalPackages = {
  name: "bench-optional",
  setup(b) {
    const targets = {
      "noble-ml-dsa": { specifier: "@noble/post-quantum/ml-dsa.js", exportNames: ["ml_dsa65"] },
      jose: { specifier: "jose", exportNames: ["jwtVerify", "SignJWT"] },
    };
    b.onResolve({ filter: /^bench-optional:/ }, (args) => ({
      path: args.path.slice("bench-optional:".length),
      namespace: "bench-optional",
    }));
    b.onLoad({ filter: /.*/, namespace: "bench-optional" }, (args) => {
      const target = targets[args.path];
      let found = false;
      try {
        import.meta.resolve(target.specifier);
        found = true;
      } catch {
        found = false;
      }
      return {
        contents: found
          ? `export { ${target.exportNames.join(", ")} } from ${JSON.stringify(target.specifier)};`
          : target.exportNames.map((name) => `export const ${name} = null;`).join("\n"),
        resolveDir: ROOT,
        loader: "js",
      };
    });
  },
};

export async function bundleMicroWorker(outdir) {
  mkdirSync(outdir, { recursive: true });
  const outfile = join(outdir, "micro-worker.js");
  await build({
    entryPoints: [join(HERE, "micro-worker.mjs")],
    outfile,
    ...WORKERD_BUNDLE_OPTIONS,
    plugins: [optionalPackages],
    logLevel: "silent",
  });
  return outfile;
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/**
 * Runs every operation: two calibration batches, then `repeats` batches sized to last about
 * `batchMs` each; reports the median µs per operation. The primary figure is workerd's CPU time
 * per batch (from /proc); the Worker's own clock and Node's wall time are kept beside it.
 */
export async function runMicro({ outdir, compatibilityDate, compatibilityFlags, batchMs, repeats, log }) {
  const script = await bundleMicroWorker(outdir);
  const flags = [...new Set([...compatibilityFlags, "webcrypto_modern_algorithms"])];
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      logRequests: false,
      modules: true,
      scriptPath: script,
      modulesRoot: outdir,
      compatibilityDate,
      compatibilityFlags: flags,
    }),
  );
  try {
    await mf.ready;
    const pids = childWorkerdPids();
    const pid = pids.length === 1 ? pids[0] : null;
    const call = async (path) => {
      const cpuBefore = processCpuSeconds(pid);
      const started = performance.now();
      const response = await mf.dispatchFetch(`http://micro.bench${path}`);
      const body = await response.json();
      const cpuAfter = processCpuSeconds(pid);
      return {
        body,
        wallMs: performance.now() - started,
        cpuMs: cpuBefore === null || cpuAfter === null ? null : (cpuAfter - cpuBefore) * 1000,
      };
    };
    const ops = (await call("/ops")).body;
    const results = [];
    for (const op of ops) {
      const calibration = await call(`/run?op=${op.name}&n=${op.slow ? 2 : 50}`);
      if (calibration.body.unavailable || calibration.body.failed) {
        results.push({ op: op.name, about: op.about, unavailable: calibration.body.unavailable ?? `failed: ${calibration.body.failed}` });
        log(`  micro ${op.name}: unavailable (${(calibration.body.unavailable ?? calibration.body.failed).split("\n")[0]})`);
        continue;
      }
      // Two calibration steps: the first batch is short and the Workers clock is coarse.
      const perOp = ({ body, wallMs }) => (body.elapsedMs >= 5 ? body.elapsedMs / body.n : Math.max(wallMs, 1) / (body.n + 1));
      const sizeFor = (ms, roughMs) => Math.max(op.slow ? 2 : 20, Math.min(500_000, Math.round(ms / Math.max(roughMs, 0.0005))));
      const second = await call(`/run?op=${op.name}&n=${sizeFor(batchMs / 4, perOp(calibration))}`);
      const n = sizeFor(batchMs, perOp(second));
      const inWorkerUs = [];
      const wallUs = [];
      const cpuUs = [];
      for (let i = 0; i < repeats; i++) {
        const { body, wallMs, cpuMs } = await call(`/run?op=${op.name}&n=${n}`);
        if (body.failed) throw new Error(`micro ${op.name} failed: ${body.failed}`);
        // The Worker runs one untimed iteration before the timed batch.
        wallUs.push((wallMs * 1000) / (n + 1));
        if (cpuMs !== null) cpuUs.push((cpuMs * 1000) / (n + 1));
        if (body.elapsedMs > 0) inWorkerUs.push((body.elapsedMs * 1000) / n);
      }
      // Primary figure: workerd's CPU time (from /proc, 10 ms ticks) per operation, which other
      // load on a shared machine does not inflate; else the in-Worker clock; else Node's wall time.
      const [usPerOp, clock] =
        cpuUs.length === repeats && median(cpuUs) * (n + 1) >= 100_000
          ? [median(cpuUs), "workerd process CPU time (/proc) per batch"]
          : inWorkerUs.length === repeats
            ? [median(inWorkerUs), "in-workerd performance.now() across scheduler.wait(0)"]
            : [median(wallUs), "Node wall time per request"];
      const digits = (us) => (us < 10 ? 3 : us < 1000 ? 1 : 0);
      results.push({
        op: op.name,
        about: op.about,
        usPerOp: round(usPerOp, digits(usPerOp)),
        opsPerSecond: Math.round(1e6 / usPerOp),
        clock,
        inWorkerClockUsPerOp: inWorkerUs.length ? round(median(inWorkerUs), digits(median(inWorkerUs))) : null,
        cpuUsPerOp: cpuUs.length ? round(median(cpuUs), digits(median(cpuUs))) : null,
        wallUsPerOp: round(median(wallUs), 3),
        iterationsPerBatch: n,
        batches: repeats,
      });
      log(
        `  micro ${op.name}: ${formatUs(usPerOp)} per op (${n} × ${repeats}; wall clock in workerd ${inWorkerUs.length ? formatUs(median(inWorkerUs)) : "–"})`,
      );
    }
    return { compatibilityFlags: flags, results };
  } finally {
    await mf.dispose();
  }
}

export function round(value, digits) {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export function formatUs(us) {
  if (us >= 1000) return `${(us / 1000).toFixed(us >= 100_000 ? 0 : 1)} ms`;
  if (us >= 100) return `${us.toFixed(0)} µs`;
  if (us >= 10) return `${us.toFixed(1)} µs`;
  return `${us.toFixed(2)} µs`;
}
