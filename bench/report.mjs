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

/** The ratio a row's target is judged on: to the ceiling, or to its reference row. */
export const judgedRatio = (row) => (row.targetAgainst === "reference" ? row.refRatio : row.ratio);

function targetCell(row) {
  if (row.target === undefined) return "";
  const against = row.targetAgainst === "reference" ? ` (${row.referenceLabel ?? "× reference"})` : "";
  const ratio = judgedRatio(row);
  if (ratio === null || ratio === undefined) return `≥ ${row.target}${against}: not measured`;
  return `≥ ${row.target}${against}: ${ratio >= row.target ? "met" : "**missed**"}`;
}

function referenceCell(row, run) {
  if (row.reference)
    return row.refRatio === null || row.refRatio === undefined ? "–" : `${ratioText(row.refRatio)} ${row.referenceLabel ?? ""}`.trim();
  return run.scenarios.some((other) => other.reference === row.id) ? "(reference)" : "";
}

const isMesh = (row) => row.unit === "pulses";
const setupFailedCell = (row) => `!! ERRORS (setup failed: ${row.setupError.split("\n")[0].replace(/\|/g, "/").slice(0, 300)})`;

export function loadTable(run) {
  const lines = [
    "| Scenario | rps | × ceiling | × reference | p50 ms | p99 ms | requests | errors | workerd CPU ms/req | × ceiling (CPU) | conns | target |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- |",
  ];
  for (const row of run.scenarios.filter((r) => !isMesh(r))) {
    const load = row.load;
    if (row.setupError) {
      lines.push(`| ${row.title} | – | – | – | – | – | – | ${setupFailedCell(row)} | – | – | – | ${targetCell(row)} |`);
      continue;
    }
    lines.push(
      `| ${row.title} | ${thousands(load.rps)} | ${row.id === "ceiling" ? "1.00" : ratioText(row.ratio)} | ${referenceCell(row, run)} | ${fixed(load.latencyMs.p50, 0)} | ${fixed(load.latencyMs.p99, 0)} | ${thousands(load.requests)} | ${errorCell(load)} | ${fixed(load.workerdCpuMsPerRequest, 2)} | ${ratioText(row.cpuRatio)} | ${row.connections} | ${targetCell(row)} |`,
    );
  }
  return lines.join("\n");
}

/** The range of a pair's per-segment ratios, as ` (0.93–1.04)`. */
function spread(values) {
  const usable = (values ?? []).filter((v) => v !== null);
  if (usable.length < 2) return "";
  return ` (${ratioText(Math.min(...usable))}–${ratioText(Math.max(...usable))})`;
}

/** PulseMesh: delivered pulses per second at the subscribers, token mode against stub mode. */
export function meshTable(run) {
  const rows = run.scenarios.filter(isMesh);
  if (!rows.length) return "";
  const lines = [
    "| Mesh case | delivered pulses/s | emits/s | × ceiling | token / stub | p50 ms | p99 ms | connect p50 ms | pulses | errors | workerd CPU µs/pulse | token / stub (CPU) | Node cores | target |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- |",
  ];
  for (const row of rows) {
    const l = row.load;
    if (row.setupError) {
      lines.push(`| ${row.title} | – | – | – | – | – | – | – | – | ${setupFailedCell(row)} | – | – | – | ${targetCell(row)} |`);
      continue;
    }
    const us = l.workerdCpuMsPerRequest === null ? null : l.workerdCpuMsPerRequest * 1000;
    lines.push(
      `| ${row.title} | ${thousands(l.rps)} | ${thousands(l.emittedPerSecond)} | ${ratioText(row.ratio)} | ${row.reference ? `${ratioText(row.refRatio)}${spread(l.pairs?.throughput)}` : "(reference)"} | ${fixed(l.latencyMs.p50, 1)} | ${fixed(l.latencyMs.p99, 1)} | ${fixed(l.connectMs.p50, 1)} | ${thousands(l.requests)} | ${errorCell(l)} | ${fixed(us, 1)} | ${row.reference ? ratioText(row.refCpuRatio) : ""} | ${fixed(l.loadGeneratorCores, 2)} | ${targetCell(row)} |`,
    );
  }
  for (const skipped of run.skipped ?? []) {
    if (skipped.id.startsWith("mesh-")) lines.push(`| ${skipped.title} | ${skipped.why} | | | | | | | | | | | | |`);
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
      lines.push(
        `| ${r.op} | ${formatUs(r.usPerOp)}${r.clock.startsWith("workerd process CPU") ? "" : " (wall)"} | ${thousands(r.opsPerSecond)} | ${wall} | ${r.about} |`,
      );
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
  const meshTargets = [1, 10, 100].map((n) => {
    const row = find(`mesh-${n}-token`);
    if (!row) {
      const skipped = run.skipped?.find((s) => s.id === `mesh-${n}-token`);
      return `  - ${n} subscriber${n > 1 ? "s" : ""}: not measured in this run${skipped ? ` (${skipped.why})` : ""}.`;
    }
    if (row.refRatio === null || row.refRatio === undefined)
      return `  - ${n} subscriber${n > 1 ? "s" : ""}: not measured (${row.setupError ? "setup failed" : "no stub figure"}).`;
    return `  - ${n} subscriber${n > 1 ? "s" : ""}: ${ratioText(row.refRatio)}${spread(row.load.pairs?.throughput)} (CPU per pulse ${ratioText(row.refCpuRatio)}) → ${row.refRatio >= row.target ? "met" : "**missed**"}`;
  });
  const pqcRef = find("verify-pqc-ref");
  const b = run.bundle;
  return [
    ratioTarget("verify-hs256", "Verify with an HS256 token ≥ 0.85 of the ceiling"),
    ratioTarget("verify-api-key", "Verify with an API key (cache warm) ≥ 0.8 of the ceiling"),
    ratioTarget(
      "verify-pqc-token",
      "Verify with a PQC token ≥ 0.8 of the ceiling",
      pqcRef?.ratio !== null && pqcRef?.ratio !== undefined ? `; with a reference (one KV read more): ${ratioText(pqcRef.ratio)}` : "",
    ),
    peerTarget(run.peer),
    "- Mesh token mode against stub mode ≥ 0.95 (delivered pulses per second, median over interleaved segment pairs):",
    ...meshTargets,
    `- Worker bundle ≤ ${BUNDLE_TARGET_GZIP_KIB} KiB gzip: ${fixed(b.gzipKiB, 1)} KiB → ${b.gzipKiB <= BUNDLE_TARGET_GZIP_KIB ? "met" : "**missed**"}`,
  ].join("\n");
}

/** The Better Auth target, from the newest full run of `node bench/peer/cli.mjs` (its own run, its own ratios). */
function peerTarget(peer) {
  const label = "- Ours against Better Auth's session check ≥ 1.5×";
  if (!peer?.hs256)
    return `${label}: not in this run (measured separately by \`node bench/peer/cli.mjs\`; no peer result found in bench/results).`;
  const part = (r) =>
    `${ratioText(r.byThroughput)}× in throughput (${ratioText(r.byCpuPerRequest)}× in CPU per request) → ${r.byThroughput >= 1.5 ? "met" : "**missed**"}`;
  return (
    `${label}: measured separately by \`node bench/peer/cli.mjs\` (ours and Better Auth's get-session with a session cookie in one run of its own, ${peer.file}, ${peer.date.slice(0, 16).replace("T", " ")} UTC` +
    `${peer.totalErrors ? `, !! ${peer.totalErrors} ERRORS` : ""}): verify with an HS256 token ${part(peer.hs256)}` +
    (peer.cookie ? `; with our session cookie ${part(peer.cookie)}.` : ".")
  );
}

/** Ratios that issues 7 and 8 ask for without a target: the gateway's credential kinds, and the ledger's cost. */
export function comparisonLines(run) {
  const find = (id) => run.scenarios.find((row) => row.id === id && row.load);
  const lines = [];
  const bare = find("gw-bare");
  if (bare) {
    const kinds = ["gw-jwt", "gw-api-key", "gw-pqc", "gw-pqc-ref"].map(find).filter(Boolean);
    lines.push(
      `- Gateway (issue 8): the bare public proxy runs at ${ratioText(bare.ratio)} of the ceiling (${fixed(bare.load.workerdCpuMsPerRequest, 2)} ms of workerd CPU per request); against it, ` +
        kinds
          .map(
            (row) =>
              `${row.title.replace(/^GET \/gw\/bench\/\w+\/…, /, "")} ${ratioText(row.refRatio)} (CPU ${ratioText(row.refCpuRatio)})`,
          )
          .join("; ") +
        ".",
    );
  }
  const on = find("login");
  const off = find("login-ledger-off");
  if (on && off) {
    const us = (op) => run.micro?.results?.find((r) => r.op === op && r.usPerOp !== undefined)?.usPerOp ?? null;
    const hash = us("ledger-event-hash");
    const receipt = us("ledger-receipt-sign");
    lines.push(
      `- Audit ledger (issue 7): login with the ledger on against off ${ratioText(on.refRatio)} in throughput, ${ratioText(on.refCpuRatio)} in CPU per login ` +
        `(${fixed(on.load.workerdCpuMsPerRequest, 1)} against ${fixed(off.load.workerdCpuMsPerRequest, 1)} ms; p50 ${fixed(on.load.latencyMs.p50, 0)} against ${fixed(off.load.latencyMs.p50, 0)} ms)` +
        (hash !== null && receipt !== null
          ? `. The ledger's own computation per login event is small beside the ~110 ms password hash: the chain hash ${formatUs(hash)} and the Ed25519 receipt ${formatUs(receipt)} (micro-benchmarks), plus a SQLite insert and update in the object and the batched export to D1, ` +
            "so the ratio is expected near 1 and the run's noise decides its second digit."
          : "."),
    );
  }
  const f = run.facts ?? {};
  if (f.pqcTokenBytes) {
    const parts = f.pqcTokenParts;
    lines.push(
      `- PQC token (issue 5): **${thousands(f.pqcTokenBytes)} bytes** as sent (compact JWS, headyme/sync: header ${parts.headerBytes}, payload ${parts.payloadBytes}, signature ${thousands(parts.signatureBytes)} characters of base64url); ` +
        `its reference ${f.pqcReferenceBytes ?? "–"} bytes; ${f.pqcMinted} minted in this run (60 a minute per caller; each lives ${f.pqcExpiresInSeconds} s, so one of each kind is reused and minted again when under 120 s remain).`,
    );
  }
  const meshRows = run.scenarios.filter((row) => isMesh(row) && row.load);
  if (meshRows.length) {
    const token = meshRows.filter((row) => row.load.mode === "token");
    const stub = meshRows.filter((row) => row.load.mode === "stub");
    const connect = (rows) =>
      rows
        .map(
          (row) =>
            `${row.load.subscribers + row.load.emitters} sockets p50 ${fixed(row.load.connectMs.p50, 1)} ms, p99 ${fixed(row.load.connectMs.p99, 1)} ms`,
        )
        .join("; ");
    lines.push(
      `- Mesh connect latency (issue 6: open → connect ack, ${10} at a time): with a token ${connect(token)}; stub ${connect(stub)}. Node tokens: ${f.nodeTokenBytes ?? "–"} bytes (RS256).`,
    );
    const most = Math.max(...meshRows.map((row) => row.load.subscribers + row.load.emitters));
    lines.push(`- The most sockets one topic held in this run: ${most} (all the bench opens; not a limit).`);
  }
  return lines.join("\n");
}

/** Per-request CPU in workerd, stage by stage, for every scenario that missed its target. */
export function whereTimeGoes(run) {
  const find = (id) => run.scenarios.find((row) => row.id === id && row.load);
  const ceiling = find("ceiling");
  const floor = find("d1-floor");
  const missed = run.scenarios.filter(
    (row) => row.target !== undefined && judgedRatio(row) !== null && judgedRatio(row) !== undefined && judgedRatio(row) < row.target,
  );
  if (!missed.length || !ceiling?.load?.workerdCpuMsPerRequest) return "";
  const micro = (op) => run.micro?.results?.find((r) => r.op === op && r.usPerOp !== undefined);
  const c = ceiling.load.workerdCpuMsPerRequest;
  const lines = [
    `workerd CPU per request (all of workerd: the Worker, the simulated D1 and the Durable Objects), from /proc during each load: ceiling ${c.toFixed(2)} ms` +
      (floor
        ? `, one D1 query (GET /health) ${floor.load.workerdCpuMsPerRequest.toFixed(2)} ms, so one local D1 round trip costs about ${(floor.load.workerdCpuMsPerRequest - c).toFixed(2)} ms of CPU.`
        : "."),
  ];
  const d1 = floor ? floor.load.workerdCpuMsPerRequest - c : null;
  // What each route does beyond the ceiling: its D1 reads and its main cryptographic operation.
  const anatomy = {
    // Warm, the session's and the key's state come from the isolate cache (src/credentials/revocable-state.ts): no
    // D1 read on the request path, only a background refresh from half the staleness bound on.
    "verify-hs256": { d1Reads: 0, op: "hs256-verify-project", what: "the HS256 verify" },
    "verify-api-key": { d1Reads: 0, op: "sha256-api-key", what: "SHA-256 of the key" },
    "verify-pqc-token": {
      d1Reads: 0,
      op: "pqc-token-verify-project",
      what: "the project's PQC token verify",
      inner: [
        ["ml-dsa-65-verify-webcrypto", "the ML-DSA-65 signature check"],
        ["base64url-decode-mldsa-signature", "decoding the signature's base64url"],
      ],
    },
  };
  for (const row of missed.filter((r) => r.targetAgainst !== "reference" && r.load)) {
    const ms = row.load.workerdCpuMsPerRequest;
    const above = ms - c;
    const parts = [`- ${row.title}: ${ms.toFixed(2)} ms per request, ${above.toFixed(2)} ms above the ceiling`];
    const { d1Reads = 0, op, what, inner } = anatomy[row.id] ?? {};
    const cryptoMs = op && micro(op) ? micro(op).usPerOp / 1000 : null;
    const innerParts = (inner ?? [])
      .filter(([name]) => micro(name))
      .map(([name, label]) => `${formatUs(micro(name).usPerOp)} of it ${label}`);
    const d1Ms = d1 !== null && d1Reads ? d1 * d1Reads : null;
    if (d1Ms !== null) parts.push(`of which about ${d1Ms.toFixed(2)} ms is its one D1 query`);
    if (cryptoMs !== null) {
      parts.push(`${(cryptoMs * 1000).toFixed(0)} µs is ${what} (micro-benchmark${innerParts.length ? `; ${innerParts.join(", ")}` : ""})`);
    }
    if (d1Ms !== null || cryptoMs !== null) {
      parts.push(
        `and the remaining ${(above - (d1Ms ?? 0) - (cryptoMs ?? 0)).toFixed(2)} ms is the rest of the route (${
          d1Reads
            ? "drizzle building the query and mapping the row, "
            : "receiving the header, the credential readers before it, the cached state, "
        }the authenticate middleware, the JSON answer)`,
      );
    }
    lines.push(`${parts.join(", ")}.`);
  }
  if (missed.some((row) => anatomy[row.id]?.d1Reads)) {
    lines.push(
      "The D1-backed verify targets cannot be met while every verify reads D1: locally one D1 round trip alone costs several times the whole ceiling request. `--profile=verify-hs256` shows the split by module.",
    );
  }
  for (const row of missed.filter((r) => r.targetAgainst === "reference" && r.load)) {
    lines.push(
      `- ${row.title}: ${ratioText(row.refRatio)} ${row.referenceLabel} in throughput, ${ratioText(row.refCpuRatio)} in workerd CPU per pulse ` +
        `(${fixed(row.load.workerdCpuMsPerRequest * 1000, 1)} against ${fixed((run.scenarios.find((r) => r.id === row.reference)?.load?.workerdCpuMsPerRequest ?? NaN) * 1000, 1)} µs). ` +
        "After the connect, the emit path is the same code in both modes (src/mesh/topic-object.ts: expiry and revocation checks per socket, the fan-out); a token-mode pulse frame is only the `stub` flag shorter. " +
        "Interleaved, the same Worker in token mode against itself came out within ~3% (CPU per pulse) during development; a larger gap that the CPU ratio shows too is worth a profile of the topic object.",
    );
  }
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
      out.push(
        `  - ${i.isolate} by module: ${i.topModules
          .slice(0, 6)
          .map((m) => `${m.what} ${(m.shareOfScript * 100).toFixed(0)}%`)
          .join(", ")}`,
      );
      out.push(
        `  - ${i.isolate} top functions: ${i.topFunctions
          .slice(0, 4)
          .map((f) => `${f.what} ${(f.shareOfScript * 100).toFixed(0)}%`)
          .join("; ")}`,
      );
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
      `Ceiling: measured ${c.samples.length} times (first and last for ${run.settings.durationSeconds} s, ${run.settings.probeSeconds} s after ${(run.settings.probeEvery ?? 1) > 1 ? `every ${run.settings.probeEvery} scenarios` : "each scenario"}): ` +
        `${thousands(c.minRps)}–${thousands(c.maxRps)} rps, spread ${(c.drift * 100).toFixed(0)}%` +
        `${c.drift > DRIFT_WARNING ? " (!! DRIFT: the machine's load changed during the run)" : ""}; each ratio is against the mean of the two ceilings measured just before and just after that scenario. ` +
        `While the ceiling ran, workerd used ${fixed(c.workerdCores, 2)} cores and autocannon ${fixed(c.loadGeneratorCores, 2)}: ` +
        (c.workerdCores >= 0.85 && c.loadGeneratorCores < 0.8
          ? "workerd (one isolate, one thread) is the bottleneck, not the load generator."
          : "!! workerd was not saturated; the load generator or other load on the machine may be the bottleneck."),
    );
  }
  if (run.scenarios.some((row) => row.reference)) {
    notes.push(
      "× reference is a row's ratio to another row of the same run (gateway kinds to the bare proxy, ledger on to off, mesh token to stub); " +
        "each throughput is first taken against the ceilings measured around it, so drift between the two cancels out. The CPU ratios need no ceiling.",
    );
  }
  for (const variant of run.worker?.variants ?? []) {
    notes.push(
      `Variant \`${variant.name}\`: the same bundle in the same workerd process, with its own direct socket and Durable Objects, D1 and KV shared with the main Worker: ${variant.about}.`,
    );
  }
  for (const row of run.scenarios) if (row.note) notes.push(`${row.title}: ${row.note}`);
  if (run.scenarios.some((row) => row.id === "gw-bare")) {
    const o = run.gatewayOrigin;
    notes.push(
      "Gateway: GATEWAY_ROUTES for this run routes /bench/bare (public), /bench/jwt (jwt, minRole user), /bench/key (api_key, bench:read) and /bench/pqc (pqc headyme/sync) " +
        "to a small Node HTTP origin on loopback in its own process (bench/origin.mjs: a 28-byte JSON answer, keep-alive), so its cost is the same for every row and not in the workerd CPU column. " +
        (o && !o.error
          ? `The origin served ${thousands(o.requests)} requests, ${o.withoutAssertion ? `!! ${o.withoutAssertion} WITHOUT an X-Heady-Assertion` : "every one with an X-Heady-Assertion"}` +
            `${o.leakedCredentials ? `, !! ${o.leakedCredentials} carrying a credential` : ", none carrying a credential"}.`
          : `The origin's counts are unavailable (${o?.error ?? "not run"}).`),
    );
  }
  if (run.scenarios.some((row) => row.unit === "pulses")) {
    const m = run.scenarios.find((row) => row.unit === "pulses" && row.load)?.load;
    notes.push(
      "Mesh: one topic per case (reasoner.bench.n<N>), N subscribers and " +
        `${m?.emitters ?? 2} emitters (${m?.window ?? 16} pulses in flight each, a new one as each ack comes back; emitters unsubscribe so they receive nothing), real \`ws\` clients in the bench process; ` +
        `both modes' sockets stay open while the two take turns in segments (${m?.segments ?? "token, stub, stub, token"}), each mode ${run.settings.durationSeconds} s of measured load in all, so that drift favours neither; ` +
        "token / stub is the median over adjacent token–stub segment pairs (their range in brackets), so one segment disturbed by other load on the machine moves one pair, not the answer; the other columns are each mode's totals; " +
        "every node is a reasoner, with its own RS256 node token from POST /api/sage/token in token mode (subprotocols pulse.v1 and bearer.<token>), or ?node_id= in stub mode. " +
        "Delivered pulses/s counts pulses received at the subscribers in the timed window (each emit fans out to all N); p50/p99 is emit → subscriber on the bench's clock, sampled at up to 10 subscribers; " +
        "errors count error frames, closes, short fan-out acks and pulses acknowledged but never delivered. × ceiling compares delivered pulses/s with the ceiling's requests/s, only as a scale. " +
        `MESH_RATE_LIMIT_PER_MINUTE is raised to ${Number(run.worker?.overrides?.MESH_RATE_LIMIT_PER_MINUTE ?? 1_000_000).toLocaleString("en-US")} in both modes: at the spec's 1,000 a minute the emitters would be throttled after a few hundred milliseconds; the rate check itself still runs on every pulse.`,
    );
  }
  for (const skipped of run.skipped ?? []) notes.push(`!! Not run: ${skipped.title}: ${skipped.why}.`);
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
    meshTable(run),
    "",
    notesUnderTable(run),
    "",
    comparisonLines(run),
    "",
    microTable(run.micro),
    "",
    bundleLines(run),
    "",
    "Targets:",
    targetsList(run),
    whereTimeGoes(run) ? `\nWhere the time goes:\n${whereTimeGoes(run)}` : "",
    profileLines(run) ? `\nProfiles (--profile):\n${profileLines(run)}` : "",
    run.totalErrors
      ? `\n!! ERRORS: ${run.totalErrors} failed requests in this run (see the errors column); the figures above are not trustworthy.`
      : "",
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
bindings of wrangler.toml (D1, KV, the RateLimiter, AuditLedger and MeshTopic Durable Objects on SQLite,
[vars]), fresh secrets from scripts/dev/dev-vars.ts (PQC_SIGNER=local with PQC_LOCAL_SEED, RECEIPT_SEED,
ASSERTION_SEED, SAGE_PRIVATE_KEY, JWT_SECRET, the bootstrap admin; checked through the JWKS before any
load) and a bench GATEWAY_ROUTES table; D1 and the Durable Objects are Miniflare's local simulations.
Two variants of the same bundle share the workerd process: \`ledger-off\` (LEDGER bound to a stub
object) and \`mesh-stub\` (PULSE_AUTH_MODE=stub). autocannon loads the HTTP routes on loopback; the
mesh cases use \`ws\` clients. Every figure is reported as a ratio to the ceiling (\`GET /ping\`, a bare
Hono route through the same middleware) measured in the same run, and pairs (gateway kind against
bare proxy, ledger on against off, mesh token against stub) as a ratio to each other.

## Reproduce

\`\`\`sh
npm install
npm run bench            # full: ${run.mode === "full" ? run.settings.durationSeconds : 10} s per scenario, about eight minutes; writes bench/results/<date>.json and this file
npm run bench:quick      # under two minutes (2 s per scenario, no 100-subscriber mesh case); prints the table only (add --save to write the files)
node bench/peer/cli.mjs  # the Better Auth comparison, a run of its own; writes bench/results/<date>-peer.json, which the targets below quote
\`\`\`

Re-render this file from a saved run (keeps the notes block): \`node bench/run.mjs --report=bench/results/<date>.json\`.

Options: \`--only=verify-hs256,login\` (the ceiling always runs, and a row's reference comes along), \`--duration=SECONDS\`, \`--connections=N\`,
\`--no-micro\`, \`--no-startup\`, \`--save\`, \`--profile=verify-hs256\` (V8 CPU profiles of the Worker and D1
isolates during one more run of that scenario, summarised by module through the bundle's source map).
Scenario ids: ${run.scenarios.map((row) => `\`${row.id}\``).join(", ")}${run.skipped?.length ? `, ${run.skipped.map((s) => `\`${s.id}\``).join(", ")}` : ""}.

## Machine

${machineLines(run)}

## Latest run

${run.totalErrors ? `**!! ERRORS: ${run.totalErrors} failed requests in this run; see the errors column.**\n\n` : ""}${loadTable(run)}
${meshTable(run) ? `\n### PulseMesh: token mode against stub mode\n\n${meshTable(run)}\n` : ""}
${notesUnderTable(run)}
${comparisonLines(run) ? `\n### Ratios without a target (issues 5, 6, 7, 8)\n\n${comparisonLines(run)}\n` : ""}
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
