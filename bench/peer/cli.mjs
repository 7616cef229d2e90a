// `node bench/peer/cli.mjs [--quick]`: the peer comparison of issue 9 (Better Auth's session check
// against ours, same workerd, same load, one run). Prints a markdown table and writes
// bench/results/<date>-peer.json (<date>-peer-quick.json for --quick, so a quick check never
// overwrites the day's full run). Exits 2 when any request failed.
//
// Options: --quick (1 round of 3 s per row, under a minute), --duration=<s per row per round>,
// --rounds=<n>, --warmup=<s>, --connections=<n>, --no-save.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

// wrangler and node:sqlite need Node ≥ 22; the project brings Node 24 (the `node` devDependency).
// Under an older `node`, run again with the project's.
const major = Number(process.versions.node.split(".")[0]);
const projectNode = join(ROOT, "node_modules", ".bin", "node");
if (major < 22 && existsSync(projectNode) && !process.env.HEADYKEY_PEER_REEXEC) {
  const child = spawnSync(projectNode, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: "inherit",
    env: { ...process.env, HEADYKEY_PEER_REEXEC: "1" },
  });
  process.exit(child.status ?? 1);
}

const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    duration: { type: "string" },
    rounds: { type: "string" },
    warmup: { type: "string" },
    connections: { type: "string" },
    "no-save": { type: "boolean", default: false },
  },
});

const { measurePeer } = await import("./index.mjs");

const fixed = (value, digits) => (value === null || value === undefined || Number.isNaN(value) ? "–" : value.toFixed(digits));
const thousands = (value) => (value === null || value === undefined ? "–" : Math.round(value).toLocaleString("en-US"));

function errorCell(row) {
  if (row.errors === 0) return "0";
  const d = row.errorDetail;
  const parts = Object.entries(d.statusCodes)
    .filter(([code]) => !code.startsWith("2"))
    .map(([code, count]) => `${code}×${count}`);
  if (d.badBodies) parts.push(`bad body×${d.badBodies}`);
  if (d.connectionErrors) parts.push(`conn×${d.connectionErrors}`);
  if (d.timeouts) parts.push(`timeout×${d.timeouts}`);
  if (d.warmup) parts.push(`warm-up ${d.warmup}`);
  return `**!! ERRORS ${row.errors}** (${parts.join(", ")})`;
}

function markdown(run) {
  const peerRow = run.rows.find((r) => r.id === "peer-get-session");
  const ratioOf = (id) =>
    id === "ours-verify-hs256" ? run.ratios["verify-hs256"] : id === "ours-verify-cookie" ? run.ratios["verify-cookie"] : null;
  const lines = [
    `### Peer: Better Auth ${run.versions.betterAuth} against HeadyKey Edge (${run.mode}, ${run.date.slice(0, 10)})`,
    "",
    `${run.settings.rounds} round(s), interleaved, ${run.settings.durationSeconds} s per row per round, ${run.settings.connections} connections, one workerd (${run.versions.workerd}), ${run.machine.cores} cores (${run.machine.cpuModel}).`,
    "",
    "| Row | rps | × Better Auth | × ceiling | p50 ms | p99 ms | requests | errors | workerd CPU ms/req |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |",
  ];
  for (const row of run.rows) {
    const ratio = ratioOf(row.id);
    const x =
      row.id === "peer-get-session"
        ? "(reference)"
        : ratio
          ? `**${fixed(ratio.byThroughput, 2)}**`
          : peerRow.rps
            ? fixed(row.rps / peerRow.rps, 2)
            : "–";
    lines.push(
      `| ${row.name} | ${thousands(row.rps)} | ${x} | ${fixed(row.xCeiling, 2)} | ${fixed(row.p50, 0)} | ${fixed(row.p99, 0)} | ${thousands(row.requests)} | ${errorCell(row)} | ${fixed(row.workerdCpuMsPerRequest, 3)} |`,
    );
  }
  lines.push(
    "",
    "| Ratio: ours / Better Auth get-session | by throughput | per round | by workerd CPU per request | target ≥ 1.5× |",
    "| --- | ---: | --- | ---: | --- |",
  );
  for (const [key, r] of Object.entries(run.ratios)) {
    const perRound = r.byThroughputPerRound ? r.byThroughputPerRound.map((v) => fixed(v, 2)).join(", ") : "";
    const target = r.informative ? "(informative)" : r.met === null ? "**!! not judged: errors**" : r.met ? "met" : "**missed**";
    const name = r.informative ? key : `**${key}** (Better Auth defaults)`;
    lines.push(`| ${name} | ${fixed(r.byThroughput, 2)}× | ${perRound} | ${fixed(r.byCpuPerRequest, 2)}× | ${target} |`);
  }
  const b = run.bundles;
  const d1 = run.perRequest;
  const sqlOf = (entry) => (entry.sql?.length ? entry.sql.map((q) => `\`${q}\``).join("; ") : "none");
  lines.push(
    "",
    `Bundles (\`wrangler deploy --dry-run\`, gzip by zlib): ours ${fixed(b.ours.gzipKiB, 1)} KiB, Better Auth ${fixed(b.peer.gzipKiB, 1)} KiB` +
      ` (wrangler says ${b.ours.wranglerReported?.gzipKiB ?? "?"} and ${b.peer.wranglerReported?.gzipKiB ?? "?"} KiB).`,
    "",
    "D1 per request (Better Auth's counted by a wrapped binding on a separate instance; ours from the code):",
    `- Better Auth get-session, defaults: ${d1.peer.d1Statements} — ${sqlOf(d1.peer)}`,
    `- Better Auth get-session, joins on: ${d1.peerJoins.d1Statements} — ${sqlOf(d1.peerJoins)}`,
    `- Better Auth get-session, cookie cache on: ${d1.peerCookieCache.d1Statements} — ${sqlOf(d1.peerCookieCache)}`,
    `- ours, HS256 bearer: 0 warm, 1 cold — ${d1.ours["verify-hs256"]}`,
    `- ours, session cookie: 0 warm, 1 cold — ${d1.ours["verify-cookie"]}`,
  );
  for (const row of run.rows) {
    if (row.errorDetail.firstBadResponse)
      lines.push("", `**!! ${row.name}: first failed response: ${row.errorDetail.firstBadResponse.replace(/\|/g, "/")}**`);
  }
  if (run.machine.otherBenchProcesses.length) {
    lines.push(
      "",
      `**!! Other bench processes shared the machine during this run** (absolute figures are low; the interleaved ratios less affected): ${run.machine.otherBenchProcesses.map((p) => `\`${p.cmdline}\``).join(", ")}`,
    );
  }
  if (run.workerLogs.errors || run.workerLogs.warnings) {
    lines.push(
      "",
      `**!! The Workers logged ${run.workerLogs.errors} error(s) and ${run.workerLogs.warnings} warning(s):** ${run.workerLogs.samples.map((s) => `${s.level} ×${s.count}: ${s.message.slice(0, 160)}`).join("; ")}`,
    );
  }
  if (run.totalErrors) lines.push("", `**!! ERRORS: ${run.totalErrors} failed requests in this run; its figures are not to be trusted.**`);
  return lines.join("\n");
}

let run;
try {
  run = await measurePeer({
    quick: args.quick,
    duration: args.duration,
    rounds: args.rounds,
    warmup: args.warmup,
    connections: args.connections,
  });
} catch (error) {
  process.stderr.write(`\n!! ERRORS: the peer bench did not run to the end: ${error?.stack ?? error}\n`);
  process.exit(2);
}
process.stdout.write(`\n${markdown(run)}\n`);
if (!args["no-save"]) {
  const dir = join(ROOT, "bench", "results");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${run.date.slice(0, 10)}-peer${run.mode === "quick" ? "-quick" : ""}.json`);
  writeFileSync(file, `${JSON.stringify(run, null, 2)}\n`);
  process.stderr.write(`\nwrote ${file}\n`);
}
process.stderr.write(`done in ${run.elapsedSeconds.toFixed(0)} s\n`);
if (run.totalErrors) {
  process.stderr.write(`!! ERRORS: ${run.totalErrors} failed requests; see the table.\n`);
  process.exitCode = 2;
}
