// `npm run bench` (bench:quick for --quick): builds the Worker, serves the bundle on workerd through
// Miniflare, loads each scenario with autocannon on loopback, runs the micro-benchmarks inside
// workerd, prints a table, writes bench/results/<date>.json and rewrites BENCHMARKS.md.
// Not part of `npm test`; nothing here asserts a time. See BENCHMARKS.md for how to read it.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { configureSettle, runLoad } from "./load.mjs";
import { runMicro } from "./micro.mjs";
import { startOrigin } from "./origin.mjs";
import { saveProfile, startProfiling, summarise } from "./profile.mjs";
import { benchmarksMarkdown, consoleReport, errorCell } from "./report.mjs";
import { benchBindings, fixtures, SCENARIOS, VARIANTS } from "./scenarios.mjs";
import { buildBundle, packageVersion, ROOT, startupProfile, startWorker, workerdVersion } from "./server.mjs";

const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    only: { type: "string" },
    duration: { type: "string" },
    warmup: { type: "string" },
    connections: { type: "string" },
    "no-micro": { type: "boolean", default: false },
    "no-startup": { type: "boolean", default: false },
    save: { type: "boolean", default: false },
    profile: { type: "string" },
    "no-save": { type: "boolean", default: false },
    report: { type: "string" },
  },
});

// `--report=bench/results/<date>.json`: print that run again and rewrite BENCHMARKS.md from it
// (after editing the notes block, or after changing how the report is written).
if (args.report) {
  const saved = JSON.parse(readFileSync(args.report, "utf8"));
  process.stdout.write(`${consoleReport(saved)}\n`);
  const md = join(ROOT, "BENCHMARKS.md");
  writeFileSync(md, benchmarksMarkdown(saved, md));
  process.stderr.write(`wrote ${md} from ${args.report}\n`);
  process.exit(0);
}

const mode = args.quick ? "quick" : "full";
// --quick has to stay under two minutes with every scenario in it: 2 s runs after 0.5 s of
// warm-up, a 1 s ceiling probe after every fourth scenario, no startup profile, shorter micro
// batches, 150 ms idle checks.
const settings = {
  durationSeconds: Number(args.duration ?? (args.quick ? 2 : 10)),
  warmupSeconds: Number(args.warmup ?? (args.quick ? 0.5 : 2)),
  probeSeconds: args.quick ? 1 : 3,
  probeEvery: args.quick ? 4 : 1,
  settleWindowMs: args.quick ? 150 : 250,
  connections: Number(args.connections ?? 32),
  microBatchMs: args.quick ? 150 : 1000,
  microRepeats: args.quick ? 2 : 5,
};
// A full run records itself; a quick run only prints, unless --save.
const save = args["no-save"] ? false : args.save || mode === "full";

const log = (line) => process.stderr.write(`${line}\n`);
configureSettle({ windowMs: settings.settleWindowMs });
const runStarted = performance.now();

function gitCommit() {
  try {
    const hash = execFileSync("git", ["rev-parse", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain"], { cwd: ROOT, encoding: "utf8" }).trim().length > 0;
    return { hash, dirty };
  } catch {
    return { hash: "unknown", dirty: null };
  }
}

const cpus = os.cpus();
const run = {
  date: new Date().toISOString(),
  mode,
  settings,
  commit: gitCommit(),
  machine: {
    cpuModel: cpus[0]?.model ?? "unknown",
    cores: cpus.length,
    cpuMHz: cpus[0]?.speed || null,
    memoryGiB: os.totalmem() / 1024 ** 3,
    platform: os.platform(),
    release: os.release(),
    arch: os.arch(),
    loadBefore: os.loadavg(),
    loadAfter: null,
  },
  versions: {
    node: process.version,
    workerd: workerdVersion(),
    miniflare: packageVersion("miniflare"),
    wrangler: packageVersion("wrangler"),
    autocannon: packageVersion("autocannon"),
  },
  bundle: null,
  startup: null,
  worker: null,
  scenarios: [],
  skipped: [],
  facts: null,
  gatewayOrigin: null,
  ceiling: null,
  micro: null,
  probeErrors: 0,
  totalErrors: 0,
};

const only = args.only ? new Set(args.only.split(",").map((id) => id.trim())) : null;
if (only) {
  const unknown = [...only].filter((id) => !SCENARIOS.some((s) => s.id === id));
  if (unknown.length) {
    log(`unknown scenario(s): ${unknown.join(", ")}; known: ${SCENARIOS.map((s) => s.id).join(", ")}`);
    process.exit(64);
  }
}
// A scenario measured against another (`reference`) brings it along.
if (only) {
  for (const s of SCENARIOS) if (only.has(s.id) && s.reference) only.add(s.reference);
  for (const s of SCENARIOS) if (only.has(s.id) && s.measuredWith) only.add(s.measuredWith);
}
const skippedInQuick = mode === "quick" ? SCENARIOS.filter((s) => s.fullOnly && (!only || only.has(s.id))) : [];
const selected = SCENARIOS.filter((s) => (s.id === "ceiling" || !only || only.has(s.id)) && !skippedInQuick.includes(s));
run.skipped = skippedInQuick.map((s) => ({ id: s.id, title: s.title, why: "skipped in --quick mode (run the full bench for it)" }));
const profiled = new Set(args.profile ? args.profile.split(",").map((id) => id.trim()) : []);
for (const id of profiled) {
  if (selected.find((s) => s.id === id)?.run) {
    log(`--profile: ${id} measures itself (WebSockets); profile an HTTP scenario`);
    process.exit(64);
  }
  if (!selected.some((s) => s.id === id)) {
    log(`--profile: ${id} is not among the scenarios that run`);
    process.exit(64);
  }
}
const profileDir = profiled.size ? mkdtempSync(join(os.tmpdir(), "headykey-bench-profiles-")) : null;

/**
 * Loads the scenario once more with the V8 profiler on the Worker's isolate and the local D1
 * isolates; whatever workerd spent beyond their JavaScript is native (HTTP, SQLite, RPC, crypto).
 */
async function profileScenario(row, common) {
  log(`  profiling ${row.id} …`);
  const profiling = await startProfiling(worker.inspectorUrl, (id) => id.startsWith("core:user:") || id.startsWith("d1:"));
  await common.spec.beforeEachRun?.(common.connections);
  const load = await runLoad({ ...common, durationSeconds: Math.min(settings.durationSeconds, 5) });
  const profiles = await profiling.stop();
  const sourceMapPath = join(run.bundle.outdir, `${run.bundle.main}.map`);
  const isolates = profiles.map(({ id, profile }) => {
    const file = saveProfile(profileDir, `${row.id}-${id.replace(/[^A-Za-z0-9]+/g, "_")}`, profile);
    const summary = summarise(profile, { bundleFile: run.bundle.main, sourceMapPath, root: ROOT });
    return { isolate: id, file, ...summary };
  });
  const result = { requests: load.requests, rpsWhileProfiling: load.rps, workerdCpuMsPerRequest: load.workerdCpuMsPerRequest, isolates };
  for (const i of isolates.filter((i) => i.scriptMs > 0)) {
    log(
      `    ${i.isolate}: ${i.topModules
        .slice(0, 5)
        .map((m) => `${m.what} ${(m.shareOfScript * 100).toFixed(0)}%`)
        .join(", ")}`,
    );
  }
  log(`    profiles in ${profileDir}`);
  return result;
}

/**
 * The Better Auth comparison runs on its own (`node bench/peer/cli.mjs`, which measures ours and
 * the peer in one run of its own and writes bench/results/<date>-peer.json). The report quotes
 * the newest full peer run, with its date, so the targets list says where that figure comes from.
 */
function latestPeerResults() {
  const dir = join(ROOT, "bench", "results");
  if (!existsSync(dir)) return null;
  let latest = null;
  for (const name of readdirSync(dir).filter((file) => file.endsWith("-peer.json"))) {
    try {
      const peer = JSON.parse(readFileSync(join(dir, name), "utf8"));
      if (!peer.ratios || (latest && latest.date >= peer.date)) continue;
      const pick = (id) => {
        const r = peer.ratios[id];
        return r
          ? { ours: r.ours, peer: r.peer, byThroughput: r.byThroughput, byCpuPerRequest: r.byCpuPerRequest, target: r.target, met: r.met }
          : null;
      };
      latest = {
        file: `bench/results/${name}`,
        date: peer.date,
        mode: peer.mode,
        totalErrors: peer.totalErrors,
        hs256: pick("verify-hs256"),
        cookie: pick("verify-cookie"),
      };
    } catch {
      // not a peer result
    }
  }
  return latest;
}

/**
 * Every signing secret reached the Worker: the JWKS publishes a key for each (ML-DSA-65 from
 * PQC_LOCAL_SEED, Ed25519 receipts from RECEIPT_SEED, Ed25519 assertions from ASSERTION_SEED,
 * RS256 from SAGE_PRIVATE_KEY). A missing one stops the run before any figure is taken.
 */
async function checkKeys(baseUrl) {
  const response = await fetch(`${baseUrl}/.well-known/jwks.json`);
  if (response.status !== 200) throw new Error(`GET /.well-known/jwks.json answered ${response.status}`);
  const { keys } = await response.json();
  const label = (key) => `${key.alg ?? key.kty}${key.token_typ ? ` (${key.token_typ})` : key.crv ? ` (${key.crv})` : ""}`;
  const algs = keys.map((key) => key.alg ?? key.kty);
  const missing = [];
  if (!algs.includes("ML-DSA-65")) missing.push("ML-DSA-65 (PQC_LOCAL_SEED)");
  if (!algs.includes("RS256")) missing.push("RS256 (SAGE_PRIVATE_KEY)");
  const eddsa = keys.filter((key) => key.crv === "Ed25519" || key.alg === "EdDSA");
  if (!eddsa.some((key) => key.token_typ === "assertion+jwt")) missing.push("Ed25519 assertion key (ASSERTION_SEED)");
  if (!eddsa.some((key) => key.token_typ !== "assertion+jwt")) missing.push("Ed25519 receipt key (RECEIPT_SEED)");
  if (missing.length) throw new Error(`the Worker's JWKS lacks ${missing.join(", ")}: a secret did not reach it`);
  return { count: keys.length, keys: keys.map(label), summary: keys.map(label).join(", ") };
}

const tmp = mkdtempSync(join(os.tmpdir(), "headykey-bench-"));
let worker;
let origin;
// Ctrl-C: stop workerd and remove the temporary build before leaving.
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, async () => {
    log(`\n${signal}: stopping`);
    await worker?.mf.dispose().catch(() => {});
    await origin?.stop().catch(() => {});
    rmSync(tmp, { recursive: true, force: true });
    process.exit(130);
  });
}
try {
  log(
    `HeadyKey Edge bench (${mode}): ${settings.durationSeconds} s per scenario after ${settings.warmupSeconds} s of warm-up, ${settings.connections} connections`,
  );
  if (run.skipped.length)
    log(`!! --quick: skipping ${run.skipped.map((s) => s.id).join(", ")} (the 100-subscriber mesh case); the full bench runs them`);
  log("building: wrangler deploy --dry-run …");
  run.bundle = buildBundle(join(tmp, "bundle"));
  log(`  bundle ${run.bundle.rawKiB.toFixed(1)} KiB, gzip ${run.bundle.gzipKiB.toFixed(1)} KiB`);
  if (args.quick && !args["no-startup"]) log("startup profile: skipped in --quick mode");
  if (!args["no-startup"] && !args.quick) {
    log("startup profile: wrangler check startup …");
    run.startup = startupProfile(join(tmp, "startup.cpuprofile"));
    log(run.startup.available ? `  ${run.startup.activeMs} ms active CPU at startup` : `  unavailable: ${run.startup.reason}`);
  }

  origin = await startOrigin();
  log(`gateway origin (Node, own process): ${origin.url}`);
  log(`starting the bundle on workerd (Miniflare), with variants ${VARIANTS.map((v) => v.name).join(", ")} …`);
  const bindings = benchBindings({ gatewayOrigin: origin.url });
  worker = await startWorker(run.bundle, bindings, { inspector: profiled.size > 0, variants: VARIANTS });
  run.worker = {
    compatibilityDate: worker.compatibilityDate,
    compatibilityFlags: worker.compatibilityFlags,
    bindings: worker.bindingNames,
    migrations: worker.migrations,
    startSeconds: worker.startSeconds,
    cpuAccounting: worker.workerdPid ? "/proc/<workerd pid>/stat" : "unavailable",
    variants: worker.variants,
    overrides: {
      MESH_RATE_LIMIT_PER_MINUTE: bindings.MESH_RATE_LIMIT_PER_MINUTE,
      GATEWAY_ROUTES: bindings.GATEWAY_ROUTES,
      PQC_SIGNER: bindings.PQC_SIGNER,
    },
  };
  log(`  ${worker.baseUrl} (direct socket), ${worker.migrations.statements} migration statements applied`);
  for (const [name, url] of Object.entries(worker.variantUrls)) log(`  variant ${name}: ${url}`);
  run.worker.keys = await checkKeys(worker.baseUrl);
  log(`  JWKS: ${run.worker.keys.summary}`);
  const fx = fixtures(worker.baseUrl, {
    bootstrapAdmin: { email: bindings.BOOTSTRAP_ADMIN_EMAIL, password: bindings.BOOTSTRAP_ADMIN_PASSWORD },
  });
  run.facts = fx.facts;

  // Shared machines drift: the ceiling runs first, again (shorter) between scenarios and in full
  // at the end, and each scenario's ratio is taken against the mean of the two ceilings around it.
  const ceilingScenario = SCENARIOS.find((s) => s.id === "ceiling");
  const ceilingSpec = await ceilingScenario.load(fx);
  const ceilingSamples = [];
  // Every measurement takes the next number, so that each row finds the ceilings just before and after it.
  let sequence = 0;
  const measureCeiling = async (kind, durationSeconds) => {
    const load = await runLoad({
      baseUrl: worker.baseUrl,
      spec: ceilingSpec,
      connections: settings.connections,
      durationSeconds,
      workerdPid: worker.workerdPid,
    });
    ceilingSamples.push({ kind, seq: sequence++, rps: load.rps, errors: load.errors, durationSeconds: load.durationSeconds });
    run.probeErrors += load.errors;
    return load;
  };
  const others = selected.filter((s) => s.id !== "ceiling");
  const plan = [ceilingScenario, ...others];
  for (const [index, scenario] of plan.entries()) {
    const connections = scenario.connections ?? settings.connections;
    const baseUrl = scenario.worker ? worker.variantUrls[scenario.worker] : worker.baseUrl;
    if (!baseUrl) throw new Error(`scenario ${scenario.id}: no variant Worker ${scenario.worker}`);
    const row = {
      id: scenario.id,
      title: scenario.title,
      about: scenario.about,
      note: scenario.note,
      target: scenario.target,
      targetAgainst: scenario.targetAgainst ?? "ceiling",
      reference: scenario.reference,
      referenceLabel: scenario.referenceLabel,
      worker: scenario.worker ?? "main",
      unit: scenario.unit ?? "requests",
      connections,
      ratio: null,
      seq: sequence++,
    };
    run.scenarios.push(row);
    const fail = (error) => {
      row.setupError = String(error?.message ?? error);
      log(`  ${row.id}: !! setup failed: ${row.setupError}`);
    };
    let spec;
    let warm;
    const logsBefore = worker.logs.snapshot();
    if (scenario.run) {
      // Measures itself (the mesh): warm-up and timed window inside.
      try {
        const logsTimed = worker.logs.snapshot();
        row.load = await scenario.run({
          fx,
          baseUrl,
          variantUrls: worker.variantUrls,
          workerdPid: worker.workerdPid,
          durationSeconds: settings.durationSeconds,
          warmupSeconds: settings.warmupSeconds,
          quick: args.quick,
        });
        if (scenario.measuredWith) row.measuredWith = scenario.measuredWith;
        row.load.workerErrorLogsTimed = worker.logs.since(logsTimed).errors;
        row.load.warmupErrors = 0;
        row.workerLogs = worker.logs.since(logsBefore);
        const l = row.load;
        log(
          `  ${row.id.padEnd(16)} ${Math.round(l.rps).toString().padStart(6)} pulses/s delivered (${Math.round(l.emittedPerSecond)} emits/s)  p50 ${l.latencyMs.p50} ms  p99 ${l.latencyMs.p99} ms  connect p50 ${l.connectMs.p50} ms  errors ${errorCell(l)}  workerd ${l.workerdCpuMsPerRequest?.toFixed(3) ?? "?"} ms CPU/pulse (${l.workerdCores?.toFixed(2) ?? "?"} cores)  node ${l.loadGeneratorCores.toFixed(2)} cores`,
        );
      } catch (error) {
        fail(error);
      }
    } else
      try {
        spec = await scenario.load(fx);
        // --quick skips the warm-up of a scenario that spends a pool (refresh: every token in flight
        // when a load stops is lost, and the pool is refilled with password logins, ~0.1 s each).
        if (args.quick && spec.beforeEachRun) {
          row.warmupSkipped = true;
          warm = { errors: 0, statusCodes: {} };
        } else {
          await spec.beforeEachRun?.(connections);
          warm = await runLoad({
            baseUrl,
            spec,
            connections,
            durationSeconds: settings.warmupSeconds,
            workerdPid: worker.workerdPid,
            tail: false,
          });
        }
        await spec.beforeEachRun?.(connections);
      } catch (error) {
        fail(error);
      }
    if (!row.setupError && !scenario.run) {
      const common = { baseUrl, spec, connections, workerdPid: worker.workerdPid };
      const logsTimed = worker.logs.snapshot();
      row.load = await runLoad({ ...common, durationSeconds: settings.durationSeconds });
      row.load.workerErrorLogsTimed = worker.logs.since(logsTimed).errors;
      row.load.warmupErrors = warm.errors;
      row.load.warmupStatusCodes = warm.statusCodes;
      row.workerLogs = worker.logs.since(logsBefore);
      if (row.id === "ceiling")
        ceilingSamples.push({ kind: "start", seq: row.seq, rps: row.load.rps, errors: 0, durationSeconds: row.load.durationSeconds });
      if (profiled.has(row.id)) row.profile = await profileScenario(row, common);
      const l = row.load;
      log(
        `  ${row.id.padEnd(16)} ${Math.round(l.rps).toString().padStart(6)} rps  p50 ${l.latencyMs.p50} ms  p99 ${l.latencyMs.p99} ms  ${l.requests} req  errors ${errorCell(l)}  workerd ${l.workerdCpuMsPerRequest?.toFixed(2) ?? "?"} ms CPU/req`,
      );
    }
    if (row.id === "ceiling") continue;
    const last = index === plan.length - 1;
    if (!last && (scenario.probeAfter === false || index % settings.probeEvery !== 0)) continue;
    const after = last ? await measureCeiling("end", settings.durationSeconds) : await measureCeiling("between", settings.probeSeconds);
    log(
      `  ${"(ceiling)".padEnd(16)} ${Math.round(after.rps).toString().padStart(6)} rps${after.errors ? `  !! ERRORS ${after.errors}` : ""}`,
    );
  }
  // Each row against the mean of the ceilings measured just before and just after it.
  for (const row of run.scenarios) {
    if (row.id === "ceiling" || !row.load) continue;
    // A row measured inside another's run (the stub half of a mesh pair) takes that run's ceilings.
    const seq = row.measuredWith ? (run.scenarios.find((other) => other.id === row.measuredWith)?.seq ?? row.seq) : row.seq;
    const before = ceilingSamples.filter((sample) => sample.seq < seq).at(-1);
    const after = ceilingSamples.find((sample) => sample.seq > seq);
    row.bracketRps = [before?.rps, after?.rps].filter((rps) => rps > 0);
    row.ratio = row.bracketRps.length ? row.load.rps / (row.bracketRps.reduce((a, b) => a + b, 0) / row.bracketRps.length) : null;
  }
  run.workerLogs = worker.logs.summary();
  await worker.mf.dispose();
  worker = undefined;
  try {
    run.gatewayOrigin = await origin.stats();
  } catch (error) {
    run.gatewayOrigin = { error: String(error?.message ?? error) };
  }
  await origin.stop();
  origin = undefined;

  const ceilingRow = run.scenarios.find((row) => row.id === "ceiling" && row.load);
  if (ceilingRow && ceilingSamples.length) {
    const rates = ceilingSamples.map((sample) => sample.rps);
    run.ceiling = {
      samples: ceilingSamples,
      startRps: rates[0],
      endRps: rates.at(-1),
      minRps: Math.min(...rates),
      maxRps: Math.max(...rates),
      meanRps: rates.reduce((a, b) => a + b, 0) / rates.length,
      drift: (Math.max(...rates) - Math.min(...rates)) / Math.max(...rates),
      workerdCores: ceilingRow.load.workerdCores,
      loadGeneratorCores: ceilingRow.load.loadGeneratorCores,
    };
    ceilingRow.ratio = 1;
    for (const row of run.scenarios) {
      if (!row.load) continue;
      row.ratioToRunMean = row.load.rps / run.ceiling.meanRps;
      const ceilingCpu = ceilingRow.load.workerdCpuMsPerRequest;
      row.cpuRatio = ceilingCpu && row.load.workerdCpuMsPerRequest ? ceilingCpu / row.load.workerdCpuMsPerRequest : null;
    }
  }
  // Against a reference row (gateway kinds against the bare proxy, token mode against stub, ledger
  // on against off): both throughputs are first taken against their own ceilings, so drift between
  // the two measurements cancels out; the CPU ratio needs no ceiling.
  for (const row of run.scenarios) {
    if (!row.reference) continue;
    const ref = run.scenarios.find((other) => other.id === row.reference);
    if (!row.load || !ref?.load) continue;
    row.refRatio = row.ratio && ref.ratio ? row.ratio / ref.ratio : null;
    row.refRatioRaw = ref.load.rps ? row.load.rps / ref.load.rps : null;
    row.refCpuRatio =
      row.load.workerdCpuMsPerRequest && ref.load.workerdCpuMsPerRequest
        ? ref.load.workerdCpuMsPerRequest / row.load.workerdCpuMsPerRequest
        : null;
    // A pair measured in alternating segments (the mesh): the median over adjacent segment pairs.
    const pairs = row.load.pairs;
    if (pairs?.medianThroughput) {
      row.refRatioTotals = row.refRatio;
      row.refCpuRatioTotals = row.refCpuRatio;
      row.refRatio = pairs.medianThroughput;
      row.refCpuRatio = pairs.medianCpu;
    }
  }
  run.totalErrors =
    run.probeErrors +
    run.scenarios.reduce((sum, row) => sum + (row.setupError ? 1 : (row.load?.errors ?? 0) + (row.load?.warmupErrors ?? 0)), 0);
  // The origin must have seen an assertion on every forwarded request, and no credential.
  const o = run.gatewayOrigin;
  if (o && !o.error && (o.withoutAssertion || o.leakedCredentials)) run.totalErrors += o.withoutAssertion + o.leakedCredentials;

  if (!args["no-micro"]) {
    log("micro-benchmarks inside workerd …");
    try {
      run.micro = await runMicro({
        outdir: join(tmp, "micro"),
        compatibilityDate: run.worker.compatibilityDate,
        compatibilityFlags: run.worker.compatibilityFlags,
        batchMs: settings.microBatchMs,
        repeats: settings.microRepeats,
        log,
      });
    } catch (error) {
      run.micro = { error: String(error?.stack ?? error) };
      run.totalErrors += 1;
      log(`  !! micro-benchmarks failed: ${run.micro.error}`);
    }
  }
} finally {
  if (worker) await worker.mf.dispose().catch(() => {});
  if (origin) await origin.stop().catch(() => {});
  run.machine.loadAfter = os.loadavg();
  run.elapsedSeconds = (performance.now() - runStarted) / 1000;
  rmSync(tmp, { recursive: true, force: true });
}

if (run.startup?.profile) delete run.startup.profile; // lived in the temporary directory
run.peer = latestPeerResults();
const report = consoleReport(run);
process.stdout.write(`${report}\n`);

if (save) {
  const day = run.date.slice(0, 10);
  const dir = join(ROOT, "bench", "results");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${day}${mode === "quick" ? "-quick" : ""}.json`);
  writeFileSync(file, `${JSON.stringify(run, null, 2)}\n`);
  log(`\nwrote ${file}`);
  if (mode === "full" || args.save) {
    const md = join(ROOT, "BENCHMARKS.md");
    writeFileSync(md, benchmarksMarkdown(run, md));
    log(`wrote ${md}`);
  }
}
log(`done in ${run.elapsedSeconds.toFixed(0)} s`);
if (run.totalErrors) {
  log(`!! ERRORS: ${run.totalErrors} failed requests; see the table.`);
  process.exitCode = 2;
}
