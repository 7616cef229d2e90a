// Turns one run's results into the printed table, bench/results/<date>.json and BENCHMARKS.md.
import { existsSync, readFileSync } from "node:fs";
import { formatUs } from "./micro.mjs";

export const BUNDLE_TARGET_GZIP_KIB = 250;
const DRIFT_WARNING = 0.15;

const fixed = (value, digits) => (value === null || value === undefined || Number.isNaN(value) ? "–" : value.toFixed(digits));
const ratioText = (ratio) => (ratio === null || ratio === undefined ? "–" : ratio < 0.1 ? ratio.toFixed(3) : ratio.toFixed(2));
const thousands = (value) => (value === null || value === undefined ? "–" : Math.round(value).toLocaleString("en-US"));

export function errorCell(load) {
  if (!load) return "!! ERRORS (not run)";
  const warm = load.warmupErrors ?? 0;
  if (load.errors === 0 && warm === 0) return "0";
  const codes = Object.entries(load.statusCodes)
    .filter(([code]) => !code.startsWith("2"))
    .map(([code, count]) => `${code}×${count}`);
  if (load.connectionErrors) codes.push(`conn×${load.connectionErrors}`);
  if (load.timeouts) codes.push(`timeout×${load.timeouts}`);
  const warmText = warm ? `; warm-up ${warm}` : "";
  return `!! ERRORS ${load.errors}${codes.length ? ` (${codes.join(", ")})` : ""}${warmText}`;
}

function targetCell(row) {
  if (row.target === undefined) return "";
  if (row.ratio === null) return `≥ ${row.target}: not measured`;
  return `≥ ${row.target}: ${row.ratio >= row.target ? "met" : "**missed**"}`;
}

export function loadTable(run) {
  const lines = [
    "| Scenario | rps | × ceiling | p50 ms | p99 ms | requests | errors | workerd CPU ms/req | × ceiling (CPU) | conns | target |",
    "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- |",
  ];
  for (const row of run.scenarios) {
    const load = row.load;
    if (row.setupError) {
      lines.push(`| ${row.title} | – | – | – | – | – | !! ERRORS (setup failed: ${row.setupError.split("\n")[0].replace(/\|/g, "/")}) | – | – | – | ${targetCell(row)} |`);
      continue;
    }
    lines.push(
      `| ${row.title} | ${thousands(load.rps)} | ${row.id === "ceiling" ? "1.00" : ratioText(row.ratio)} | ${fixed(load.latencyMs.p50, 0)} | ${fixed(load.latencyMs.p99, 0)} | ${thousands(load.requests)} | ${errorCell(load)} | ${fixed(load.workerdCpuMsPerRequest, 2)} | ${ratioText(row.cpuRatio)} | ${row.connections} | ${targetCell(row)} |`,
    );
  }
  return lines.join("\n");
}

export function microTable(micro) {
  if (!micro) return "_Micro-benchmarks skipped._";
  if (micro.error) return `!! ERRORS: micro-benchmarks failed: ${micro.error.split("\n")[0]}`;
  const lines = ["| Operation (inside workerd) | per op | ops/s | wall clock in workerd | what |", "| --- | ---: | ---: | ---: | --- |"];
  for (const r of micro.results) {
    if (r.unavailable) lines.push(`| ${r.op} | unavailable | – | – | ${r.about}: ${r.unavailable.split("\n")[0]} |`);
    else {
      const wall = r.inWorkerClockUsPerOp === null ? "–" : formatUs(r.inWorkerClockUsPerOp);
      lines.push(`| ${r.op} | ${formatUs(r.usPerOp)}${r.clock.startsWith("workerd process CPU") ? "" : " (wall)"} | ${thousands(r.opsPerSecond)} | ${wall} | ${r.about} |`);
    }
  }
  return lines.join("\n");
}

export function bundleLines(run) {
  const b = run.bundle;
  const lines = [
    `- Bundle (\`wrangler deploy --dry-run\`): ${fixed(b.rawKiB, 1)} KiB raw, **${fixed(b.gzipKiB, 1)} KiB gzip** (zlib level 6, measured here; wrangler printed ${b.wranglerReported ? `${b.wranglerReported.gzipKiB} KiB` : "nothing"}); target ≤ ${BUNDLE_TARGET_GZIP_KIB} KiB: ${b.gzipKiB <= BUNDLE_TARGET_GZIP_KIB ? "met" : "**missed**"}.`,
  ];
  if (b.largestInputs?.length) {
    lines.push(
      `- Largest parts of the bundle (raw, from esbuild's metafile): ${b.largestInputs
        .slice(0, 8)
        .map((part) => `${part.what} ${part.rawKiB} KiB (${(part.share * 100).toFixed(0)}%)`)
        .join(", ")}.`,
    );
  }
  if (b.wranglerStartupMs !== null) lines.push(`- Startup time printed by wrangler: ${b.wranglerStartupMs} ms.`);
  else lines.push("- `wrangler deploy --dry-run` prints no startup time (Cloudflare measures it at upload).");
  const s = run.startup;
  if (s?.available) {
    lines.push(
      `- Local startup profile (\`wrangler check startup\`): ${fixed(s.activeMs, 1)} ms of CPU (${fixed(s.garbageCollectionMs ?? 0, 1)} ms of it GC) in a ${fixed(s.profileWindowMs, 1)} ms window; Cloudflare's limit is 1 s.`,
    );
  } else if (s) lines.push(`- Local startup profile: unavailable (${s.reason ?? "skipped"}).`);
  return lines.join("\n");
}

export function targetsList(run) {
  const find = (id) => run.scenarios.find((row) => row.id === id);
  const ratioTarget = (id, label, extra = "") => {
    const row = find(id);
    if (!row || row.ratio === null || row.ratio === undefined) return `- ${label}: not measured in this run.`;
    const verdict = row.ratio >= row.target ? "met" : "**missed**";
    return `- ${label}: ${ratioText(row.ratio)} of the ceiling → ${verdict}${extra}`;
  };
  const b = run.bundle;
  return [
    ratioTarget("verify-hs256", "Verify with an HS256 token ≥ 0.85 of the ceiling"),
    ratioTarget("verify-api-key", "Verify with an API key (cache warm) ≥ 0.8 of the ceiling", " (there is no API-key cache yet: every request reads D1)"),
    "- Verify with a PQC token ≥ 0.8 of the ceiling: not measured yet (no PQC token route in the bench).",
    "- Ours against Better Auth's session check ≥ 1.5×: not measured yet (the peer Worker is not in the bench).",
    "- Mesh token mode against stub mode ≥ 0.95: not measured yet (no mesh routes).",
    `- Worker bundle ≤ ${BUNDLE_TARGET_GZIP_KIB} KiB gzip: ${fixed(b.gzipKiB, 1)} KiB → ${b.gzipKiB <= BUNDLE_TARGET_GZIP_KIB ? "met" : "**missed**"}`,
  ].join("\n");
}

/** Per-request CPU in workerd, stage by stage, for every scenario that missed its target. */
export function whereTimeGoes(run) {
  const find = (id) => run.scenarios.find((row) => row.id === id && row.load);
  const ceiling = find("ceiling");
  const floor = find("d1-floor");
  const missed = run.scenarios.filter((row) => row.target !== undefined && row.ratio !== null && row.ratio < row.target);
  if (!missed.length || !ceiling?.load?.workerdCpuMsPerRequest) return "";
  const micro = (op) => run.micro?.results?.find((r) => r.op === op && r.usPerOp !== undefined);
  const c = ceiling.load.workerdCpuMsPerRequest;
  const lines = [
    `workerd CPU per request (all of workerd: the Worker, the simulated D1 and the Durable Objects), from /proc during each load: ceiling ${c.toFixed(2)} ms` +
      (floor ? `, one D1 query (GET /health) ${floor.load.workerdCpuMsPerRequest.toFixed(2)} ms, so one local D1 round trip costs about ${(floor.load.workerdCpuMsPerRequest - c).toFixed(2)} ms of CPU.` : "."),
  ];
  const d1 = floor ? floor.load.workerdCpuMsPerRequest - c : null;
  const crypto = { "verify-hs256": ["hs256-verify-project", "the HS256 verify"], "verify-api-key": ["sha256-api-key", "SHA-256 of the key"] };
  for (const row of missed) {
    const ms = row.load.workerdCpuMsPerRequest;
    const above = ms - c;
    const parts = [`- ${row.title}: ${ms.toFixed(2)} ms per request, ${above.toFixed(2)} ms above the ceiling`];
    const [op, what] = crypto[row.id] ?? [];
    const cryptoMs = op && micro(op) ? micro(op).usPerOp / 1000 : null;
    if (d1 !== null) parts.push(`of which about ${d1.toFixed(2)} ms is its one D1 query`);
    if (cryptoMs !== null) parts.push(`${(cryptoMs * 1000).toFixed(0)} µs is ${what} (micro-benchmark)`);
    if (d1 !== null) {
      parts.push(
        `and the remaining ${(above - d1 - (cryptoMs ?? 0)).toFixed(2)} ms is the rest of the route (drizzle building the query and mapping the row, the authenticate middleware, the JSON answer)`,
      );
    }
    lines.push(`${parts.join(", ")}.`);
  }
  lines.push(
    "The ratio targets cannot be met while every verify reads D1: locally one D1 round trip alone costs several times the whole ceiling request. `--profile=verify-hs256` shows the split by module.",
  );
  return lines.join("\n");
}

/** `--profile`: where one request's CPU goes, by isolate and by source module. */
export function profileLines(run) {
  const rows = run.scenarios.filter((row) => row.profile);
  if (!rows.length) return "";
  const out = [];
  for (const row of rows) {
    const p = row.profile;
    const scripted = p.isolates.filter((i) => i.scriptMs > 0);
    out.push(
      `- ${row.title}: ${fixed(p.workerdCpuMsPerRequest, 2)} ms of workerd CPU per request while profiled (${p.requests} requests; the profiler adds its own cost). ` +
        "Shares of each isolate's sampled JavaScript (all isolates share one thread, so absolute times overlap and are not shown):",
    );
    for (const i of scripted) {
      out.push(`  - ${i.isolate} by module: ${i.topModules.slice(0, 6).map((m) => `${m.what} ${(m.shareOfScript * 100).toFixed(0)}%`).join(", ")}`);
      out.push(`  - ${i.isolate} top functions: ${i.topFunctions.slice(0, 4).map((f) => `${f.what} ${(f.shareOfScript * 100).toFixed(0)}%`).join("; ")}`);
    }
  }
  return out.join("\n");
}

export function notesUnderTable(run) {
  const notes = [];
  const c = run.ceiling;
  if (c) {
    notes.push(
      "× ceiling is throughput against the ceiling; × ceiling (CPU) is the ceiling's workerd CPU per request over the scenario's, " +
        "the same ratio as workerd would show if it had a core to itself (other load on a shared machine does not inflate CPU time). Targets are judged on throughput.",
    );
    notes.push(
      `Ceiling: measured ${c.samples.length} times (first and last for ${run.settings.durationSeconds} s, ${run.settings.probeSeconds} s between scenarios): ` +
        `${thousands(c.minRps)}–${thousands(c.maxRps)} rps, spread ${(c.drift * 100).toFixed(0)}%` +
        `${c.drift > DRIFT_WARNING ? " (!! DRIFT: the machine's load changed during the run)" : ""}; each ratio is against the mean of the two ceilings measured just before and just after that scenario. ` +
        `While the ceiling ran, workerd used ${fixed(c.workerdCores, 2)} cores and autocannon ${fixed(c.loadGeneratorCores, 2)}: ` +
        (c.workerdCores >= 0.85 && c.loadGeneratorCores < 0.8
          ? "workerd (one isolate, one thread) is the bottleneck, not the load generator."
          : "!! workerd was not saturated; the load generator or other load on the machine may be the bottleneck."),
    );
  }
  for (const row of run.scenarios) if (row.note) notes.push(`${row.title}: ${row.note}`);
  const logs = run.workerLogs;
  if (logs && (logs.errors || logs.warnings)) {
    const worst = logs.samples
      .slice(0, 3)
      .map((sample) => `${sample.count}× "${sample.message.slice(0, 160)}"`)
      .join("; ");
    const per = run.scenarios
      .filter((row) => row.workerLogs?.errors)
      .map((row) => `${row.id} ${row.workerLogs.errors}`)
      .join(", ");
    notes.push(
      `${logs.errors ? "!! WORKER ERRORS: " : ""}the Worker logged ${logs.errors} error and ${logs.warnings} warning lines during the run${per ? ` (errors by scenario: ${per})` : ""}; e.g. ${worst}.`,
    );
  }
  const login = run.scenarios.find((row) => row.id === "login" && row.load);
  const verify = run.micro?.results?.find((r) => r.op === "password-verify" && r.usPerOp);
  if (login) {
    notes.push(
      `Login CPU per request: ${fixed(login.load.workerdCpuMsPerRequest, 1)} ms of workerd CPU per login under load (workerd's CPU time during the run and until it went idle, over the logins sent; workerd used ${fixed(login.load.workerdCores, 2)} cores)` +
        (verify ? `; the password verify alone is ${formatUs(verify.usPerOp)} (micro-benchmark).` : "."),
    );
  }
  return notes.map((note) => `- ${note}`).join("\n");
}

export function machineLines(run) {
  const m = run.machine;
  return [
    `- CPU: ${m.cpuModel}, ${m.cores} cores${m.cpuMHz ? ` at ${m.cpuMHz} MHz` : ""}; memory ${m.memoryGiB.toFixed(1)} GiB; ${m.platform} ${m.release}.`,
    `- Load average before/after the run: ${m.loadBefore.map((v) => v.toFixed(2)).join(", ")} / ${m.loadAfter.map((v) => v.toFixed(2)).join(", ")} (a shared machine: absolute numbers drift, ratios less so).`,
    `- Node ${run.versions.node}, workerd ${run.versions.workerd}, miniflare ${run.versions.miniflare}, wrangler ${run.versions.wrangler}, autocannon ${run.versions.autocannon}.`,
    `- Commit ${run.commit.hash}${run.commit.dirty ? " (with uncommitted changes)" : ""}; ${run.date}; ${run.mode} mode, ${run.settings.durationSeconds} s per scenario after a ${run.settings.warmupSeconds} s warm-up.`,
  ].join("\n");
}

export function consoleReport(run) {
  return [
    "",
    loadTable(run),
    "",
    notesUnderTable(run),
    "",
    microTable(run.micro),
    "",
    bundleLines(run),
    "",
    "Targets:",
    targetsList(run),
    whereTimeGoes(run) ? `\nWhere the time goes:\n${whereTimeGoes(run)}` : "",
    profileLines(run) ? `\nProfiles (--profile):\n${profileLines(run)}` : "",
    run.totalErrors ? `\n!! ERRORS: ${run.totalErrors} failed requests in this run (see the errors column); the figures above are not trustworthy.` : "",
  ].join("\n");
}

const NOTES_START = "<!-- notes:start (kept when the bench rewrites this file) -->";
const NOTES_END = "<!-- notes:end -->";

export function benchmarksMarkdown(run, path) {
  let notes = "Hand-written analysis goes here; `npm run bench` keeps this block when it rewrites the file.";
  if (existsSync(path)) {
    const old = readFileSync(path, "utf8");
    const start = old.indexOf(NOTES_START);
    const end = old.indexOf(NOTES_END);
    if (start !== -1 && end > start) notes = old.slice(start + NOTES_START.length, end).trim();
  }
  const where = whereTimeGoes(run);
  return `# Benchmarks

Written by \`npm run bench\` (bench/run.mjs); the full data of each run is in \`bench/results/<date>.json\`.
The built Worker (\`wrangler deploy --dry-run\`) runs on bare workerd through Miniflare's API with the
bindings of wrangler.toml (D1, KV, the RateLimiter Durable Object on SQLite, [vars]) and local, simulated
D1 and Durable Objects; autocannon loads it on loopback. Every route is reported as a ratio to the
ceiling (\`GET /ping\`, a bare Hono route through the same middleware) measured in the same run.

## Reproduce

\`\`\`sh
npm install
npm run bench            # full: ${run.mode === "full" ? run.settings.durationSeconds : 10} s per scenario; writes bench/results/<date>.json and this file
npm run bench:quick      # about a minute, prints the table only (add --save to write the files)
\`\`\`

Re-render this file from a saved run (keeps the notes block): \`node bench/run.mjs --report=bench/results/<date>.json\`.

Options: \`--only=verify-hs256,login\` (the ceiling always runs), \`--duration=SECONDS\`, \`--connections=N\`,
\`--no-micro\`, \`--no-startup\`, \`--save\`, \`--profile=verify-hs256\` (V8 CPU profiles of the Worker and D1
isolates during one more run of that scenario, summarised by module through the bundle's source map).

## Machine

${machineLines(run)}

## Latest run

${run.totalErrors ? `**!! ERRORS: ${run.totalErrors} failed requests in this run; see the errors column.**\n\n` : ""}${loadTable(run)}

${notesUnderTable(run)}

### Micro-benchmarks (inside workerd)

${microTable(run.micro)}

Each operation runs in batches inside a separate bench Worker (bench/micro-worker.mjs, which imports the project's own
crypto code); the median of the batches is shown. "Per op" is workerd's CPU time per operation (from /proc around each
batch), which other load on the machine does not inflate; "wall clock in workerd" is \`performance.now()\` inside the
Worker, fenced by \`await scheduler.wait(0)\` because Workers clocks only move across I/O.

### Bundle and startup

${bundleLines(run)}

## Targets (goals, not tests)

${targetsList(run)}
${where ? `\n### Where the time goes\n\n${where}\n` : ""}${profileLines(run) ? `\n### Profiles (\`--profile\`)\n\n${profileLines(run)}\n` : ""}
## Notes

${NOTES_START}
${notes}
${NOTES_END}
`;
}
