// The peer comparison of issue 9: Better Auth's session check against ours, in one workerd, on the
// same load, measured in one run.
//
// One Miniflare instance runs, each Worker on its own direct socket (no Miniflare entry Worker in
// front, as bench/server.mjs does it):
//   headykey-edge                  our bundle (`wrangler deploy --dry-run`, as the harness builds
//                                  it), wrangler.toml's bindings plus the harness's bench secrets;
//   better-auth-peer               Better Auth (bench/peer/better-auth-worker.ts), email and
//                                  password, its own D1 database, built by wrangler the same way;
//   better-auth-peer-cookie-cache  the same bundle with Better Auth's cookie cache on (informative);
//   better-auth-peer-joins         the same bundle with Better Auth's SQL joins on (informative);
//   …-d1count                      the same three again, counting the D1 statements each request
//                                  runs (diagnostics, never loaded).
// The loads run interleaved: every row once per round, the order rotated each round, each with the
// harness's own `runLoad` (autocannon, same connections, duration and pipelining for every row).
// Every response is checked (status and body), and a failed check counts as an error.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { runLoad } from "../load.mjs";
import { benchBindings } from "../scenarios.mjs";
import { buildBundle, bundleComposition, childWorkerdPids, packageVersion, ROOT, workerdVersion } from "../server.mjs";
import { peerAuthOptions } from "./auth-options.mjs";

const HERE = fileURLToPath(new URL(".", import.meta.url));
const PEER_CONFIG = join(HERE, "wrangler.peer.toml");
const WRANGLER = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
const KiB = 1024;

export const OURS = "headykey-edge";
export const PEER = "better-auth-peer";
export const PEER_CACHE = "better-auth-peer-cookie-cache";
export const PEER_JOINS = "better-auth-peer-joins";
/** Each peer instance and the Better Auth variant (auth-options.mjs) it runs. */
const PEER_INSTANCES = { [PEER]: "default", [PEER_CACHE]: "cookie-cache", [PEER_JOINS]: "joins" };
const d1count = (name) => `${name}-d1count`;

/** The peer's base URL: HTTPS, as in production, so its cookie is `__Secure-better-auth.session_token`. */
const PEER_BASE_URL = "https://auth.peer.bench";

const defaults = (quick) => ({
  durationSeconds: quick ? 3 : 10,
  warmupSeconds: quick ? 1 : 2,
  rounds: quick ? 1 : 3,
  connections: 32,
});

/** wrangler in a child process, without blocking: the peer builds while ours does. */
function wrangler(args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [WRANGLER, ...args], {
      cwd: ROOT,
      env: { ...process.env, CI: "1", WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", FORCE_COLOR: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (chunk) => (output += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk) => (output += chunk));
    child.on("error", (error) => resolve({ status: null, output, error }));
    child.on("close", (status) => resolve({ status, output, error: null }));
  });
}

/** The peer's bundle, built and measured exactly as bench/server.mjs's buildBundle does ours. */
export async function buildPeerBundle(outdir) {
  const started = performance.now();
  const metafile = join(outdir, "..", "peer-bundle-meta.json");
  const { status, output, error } = await wrangler([
    "deploy",
    "--dry-run",
    "--config",
    PEER_CONFIG,
    "--outdir",
    outdir,
    "--metafile",
    metafile,
  ]);
  if (status !== 0) throw new Error(`wrangler deploy --dry-run (peer) failed (${status ?? error}):\n${output}`);
  const modules = readdirSync(outdir).filter((name) => /\.(m?js|cjs|wasm|bin|txt|html|sql)$/.test(name));
  const main = modules.find((name) => /\.m?js$/.test(name));
  if (!main) throw new Error(`no JavaScript module in ${outdir}:\n${output}`);
  let rawBytes = 0;
  let gzipBytes = 0;
  for (const name of modules) {
    const bytes = readFileSync(join(outdir, name));
    rawBytes += bytes.length;
    gzipBytes += gzipSync(bytes).length;
  }
  const reported = /Total Upload:\s*([\d.]+)\s*KiB\s*\/\s*gzip:\s*([\d.]+)\s*KiB/.exec(output);
  return {
    outdir,
    main,
    modules,
    largestInputs: bundleComposition(metafile, main),
    rawKiB: rawBytes / KiB,
    gzipKiB: gzipBytes / KiB,
    wranglerReported: reported ? { totalKiB: Number(reported[1]), gzipKiB: Number(reported[2]) } : null,
    buildSeconds: (performance.now() - started) / 1000,
  };
}

/**
 * Better Auth's own migration for these options (its `getMigrations`, what its CLI's `migrate`
 * runs), compiled against an empty in-memory SQLite database: the SQL that creates its tables.
 */
export async function peerSchemaSql() {
  // Loaded here, not at the top: node:sqlite needs Node ≥ 22.5 (the project's Node 24 has it).
  const { DatabaseSync } = await import("node:sqlite");
  const { getMigrations } = await import("better-auth/db/migration");
  const { compileMigrations, toBeCreated } = await getMigrations({
    ...peerAuthOptions(),
    database: new DatabaseSync(":memory:"),
    secret: "schema-only-secret-schema-only-secret",
    baseURL: PEER_BASE_URL,
  });
  const sql = await compileMigrations();
  return {
    tables: toBeCreated.map((table) => table.table),
    statements: sql
      .split(/;\s*\n/)
      .map((statement) => statement.replace(/;\s*$/, "").trim())
      .filter(Boolean),
  };
}

/** Our migrations/*.sql, statement by statement, as bench/server.mjs applies them. */
async function applyOurMigrations(db) {
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
  return statements;
}

/** What the Workers log, counted per level, with the first distinct messages kept. */
function logCollector() {
  const counts = { error: 0, warn: 0, other: 0 };
  const samples = new Map();
  return {
    handle({ level, message }) {
      const bucket = level === "error" ? "error" : level === "warn" ? "warn" : "other";
      counts[bucket]++;
      if (bucket === "other") return;
      const key = String(message).slice(0, 400);
      const entry = samples.get(key);
      if (entry) entry.count++;
      else if (samples.size < 20) samples.set(key, { level, message: key, count: 1 });
    },
    snapshot: () => ({ ...counts }),
    summary: () => ({ errors: counts.error, warnings: counts.warn, other: counts.other, samples: [...samples.values()] }),
  };
}

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
const modulesOf = (bundle) =>
  [bundle.main, ...bundle.modules.filter((name) => name !== bundle.main)].map((file) => ({
    type: typeOf(file),
    path: join(bundle.outdir, file),
  }));

/** Both Workers (and the peer's variants) in one workerd, each on its own direct socket. */
async function startBoth(ours, peer, { ourSecrets, peerSecret, logs }) {
  const { unstable_getMiniflareWorkerOptions } = await import("wrangler");
  const ourConfig = unstable_getMiniflareWorkerOptions(join(ROOT, "wrangler.toml")).workerOptions;
  const peerConfig = unstable_getMiniflareWorkerOptions(PEER_CONFIG).workerOptions;
  const { modulesRules: _r1, rootPath: _p1, ...ourOptions } = ourConfig;
  const { modulesRules: _r2, rootPath: _p2, ...peerOptions } = peerConfig;
  const socket = () => [{ host: "127.0.0.1", port: 0 }];
  const peerWorker = (name, bindings) => ({
    ...peerOptions,
    name,
    modules: modulesOf(peer),
    modulesRoot: peer.outdir,
    // Every instance binds the same D1 database (same id): one user, its sessions, six doors.
    bindings: { ...peerConfig.bindings, BETTER_AUTH_SECRET: peerSecret, BETTER_AUTH_URL: PEER_BASE_URL, ...bindings },
    unsafeDirectSockets: socket(),
  });
  const workers = [
    {
      ...ourOptions,
      name: OURS,
      modules: modulesOf(ours),
      modulesRoot: ours.outdir,
      bindings: { ...ourConfig.bindings, ...ourSecrets },
      // The limiter keys on CF-Connecting-IP; keep the header (as bench/server.mjs does).
      stripCfConnectingIp: false,
      unsafeDirectSockets: socket(),
    },
    ...Object.entries(PEER_INSTANCES).flatMap(([name, variant]) => [
      peerWorker(name, { PEER_VARIANT: variant }),
      peerWorker(d1count(name), { PEER_VARIANT: variant, PEER_COUNT_D1: "1" }),
    ]),
  ];
  const started = performance.now();
  const pidsBefore = new Set(childWorkerdPids());
  const mf = new Miniflare(
    convertV4MiniflareOptions({ host: "127.0.0.1", port: 0, logRequests: false, handleStructuredLogs: logs.handle, workers }),
  );
  await mf.ready;
  const urls = {};
  for (const { name } of workers) urls[name] = (await mf.unsafeGetDirectURL(name)).origin;
  const ourStatements = await applyOurMigrations(await mf.getD1Database("DB", OURS));
  const schema = await peerSchemaSql();
  const peerDb = await mf.getD1Database("DB", PEER);
  for (const statement of schema.statements) await peerDb.prepare(statement).run();
  const pids = childWorkerdPids().filter((pid) => !pidsBefore.has(pid));
  return {
    mf,
    urls,
    workerdPid: pids.length === 1 ? pids[0] : null,
    ourMigrationStatements: ourStatements,
    peerSchema: schema,
    compatibilityDate: ourConfig.compatibilityDate,
    compatibilityFlags: ourConfig.compatibilityFlags ?? [],
    peerCompatibilityDate: peerConfig.compatibilityDate,
    peerCompatibilityFlags: peerConfig.compatibilityFlags ?? [],
    startSeconds: (performance.now() - started) / 1000,
  };
}

async function call(url, { method = "GET", headers = {}, json } = {}) {
  const response = await fetch(url, {
    method,
    headers: { ...(json ? { "content-type": "application/json" } : {}), ...headers },
    body: json ? JSON.stringify(json) : undefined,
  });
  const text = await response.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: response.status, headers: response.headers, body, text };
}

function expect(result, status, what) {
  if (result.status !== status)
    throw new Error(`setup: ${what} answered ${result.status}, expected ${status}: ${result.text.slice(0, 500)}`);
  return result;
}

/** `name=value` of one cookie among a response's Set-Cookie headers. */
function cookieFrom(headers, name) {
  for (const line of headers.getSetCookie()) {
    const [pair] = line.split(";");
    const eq = pair.indexOf("=");
    if (pair.slice(0, eq).trim() === name && pair.slice(eq + 1)) return pair.trim();
  }
  return null;
}

const PASSWORD = "bench-password: correct horse battery staple";

/** Our user, through the public API: an access token and the `__Host-heady_session` cookie. */
async function setUpOurs(base) {
  const email = `peer-bench-${Date.now().toString(36)}@bench.heady.test`;
  const { body, headers } = expect(
    await call(`${base}/api/auth/register`, {
      method: "POST",
      json: { email, password: PASSWORD, displayName: "Peer bench" },
      headers: { "cf-connecting-ip": "2001:db8:9::1" },
    }),
    201,
    "our POST /api/auth/register",
  );
  const cookie = cookieFrom(headers, "__Host-heady_session");
  if (!cookie) throw new Error("setup: our register set no __Host-heady_session cookie");
  if (!body.accessToken) throw new Error("setup: our register returned no accessToken");
  return { email, userId: body.user.id, accessToken: body.accessToken, cookie };
}

/**
 * Better Auth's user, through its public API: POST /api/auth/sign-up/email answers with its session
 * cookie. On the cookie-cache instance, a sign-in also sets the signed `session_data` cookie.
 */
async function setUpPeer(urls) {
  const email = `peer-bench-${Date.now().toString(36)}@bench.peer.test`;
  const signUp = expect(
    await call(`${urls[PEER]}/api/auth/sign-up/email`, {
      method: "POST",
      json: { email, password: PASSWORD, name: "Peer bench" },
      headers: { origin: PEER_BASE_URL },
    }),
    200,
    "Better Auth POST /api/auth/sign-up/email",
  );
  const tokenName = "__Secure-better-auth.session_token";
  const cookie = cookieFrom(signUp.headers, tokenName);
  if (!cookie)
    throw new Error(`setup: Better Auth's sign-up set no ${tokenName} cookie (Set-Cookie: ${signUp.headers.getSetCookie().join(" | ")})`);
  const signIn = expect(
    await call(`${urls[PEER_CACHE]}/api/auth/sign-in/email`, {
      method: "POST",
      json: { email, password: PASSWORD },
      headers: { origin: PEER_BASE_URL },
    }),
    200,
    "Better Auth (cookie cache) POST /api/auth/sign-in/email",
  );
  const cacheToken = cookieFrom(signIn.headers, tokenName);
  const cacheData = cookieFrom(signIn.headers, "__Secure-better-auth.session_data");
  if (!cacheToken || !cacheData) {
    throw new Error(
      `setup: Better Auth's sign-in (cookie cache) set no session_token/session_data cookie (Set-Cookie: ${signIn.headers.getSetCookie().join(" | ")})`,
    );
  }
  return { email, userId: signUp.body.user.id, cookie, cacheCookies: `${cacheToken}; ${cacheData}` };
}

/** The rows: each a fixed GET plus the check every response must pass. */
function rows(urls, ours, peer) {
  const ourSession = (kind) => (status, body) =>
    status === 200 && body.includes('"valid":true') && body.includes(`"kind":"${kind}"`) && body.includes(ours.userId);
  const peerSession = (status, body) =>
    status === 200 && body.startsWith("{") && body.includes('"session":{') && body.includes(peer.userId);
  return [
    {
      id: "peer-get-session",
      title: "Better Auth GET /api/auth/get-session, session cookie",
      about: "signed cookie (HMAC) checked, then the session and its user read from D1",
      base: urls[PEER],
      path: "/api/auth/get-session",
      headers: { cookie: peer.cookie },
      valid: peerSession,
    },
    {
      id: "ours-verify-hs256",
      title: "ours GET /api/auth/verify, HS256 bearer",
      about: "HS256 signature and claims, then the session row (joined to its user) read from D1",
      base: urls[OURS],
      path: "/api/auth/verify",
      headers: { authorization: `Bearer ${ours.accessToken}` },
      valid: ourSession("access_token"),
      against: "peer-get-session",
    },
    {
      id: "ours-verify-cookie",
      title: "ours GET /api/auth/verify, session cookie",
      about: "SHA-256 of the cookie, then the session (by that hash, joined to its user) read from D1",
      base: urls[OURS],
      path: "/api/auth/verify",
      headers: { cookie: ours.cookie },
      valid: ourSession("session_cookie"),
      against: "peer-get-session",
    },
    {
      id: "ceiling",
      title: "ours GET /ping (ceiling)",
      about: "a bare Hono route through our middleware",
      base: urls[OURS],
      path: "/ping",
      headers: {},
      valid: (status) => status === 200,
    },
    {
      id: "peer-get-session-joins",
      title: "Better Auth get-session, SQL joins on (informative)",
      about: "as the default, but the session and its user in one joined SELECT (advanced.database.joins)",
      base: urls[PEER_JOINS],
      path: "/api/auth/get-session",
      headers: { cookie: peer.cookie },
      valid: peerSession,
      informative: true,
    },
    {
      id: "peer-get-session-cookie-cache",
      title: "Better Auth get-session, cookie cache on (informative)",
      about: "session_token and signed session_data cookies checked; no D1 while the cache is fresh",
      base: urls[PEER_CACHE],
      path: "/api/auth/get-session",
      headers: { cookie: peer.cacheCookies },
      valid: peerSession,
      informative: true,
    },
  ];
}

/**
 * A `runLoad` spec whose every response is checked. A 2xx that fails the check (for example
 * get-session's `200 null` for a cookie it does not accept) is counted in `bad` and added to the
 * row's errors; the first failing response of any status is kept for the report.
 */
function specFor(row) {
  const counter = { bad: 0, firstBad: null };
  const spec = {
    path: row.path,
    requests: [
      {
        method: "GET",
        path: row.path,
        headers: row.headers,
        onResponse(status, body) {
          if (row.valid(status, String(body ?? ""))) return;
          counter.firstBad ??= `${status} ${String(body ?? "").slice(0, 200)}`;
          // A non-2xx is already an error in autocannon's count; a 2xx with the wrong body is not.
          if (status >= 200 && status < 300) counter.bad++;
        },
      },
    ],
  };
  return { spec, counter };
}

/** Per-request D1 statements, from the counting instances (third call: past any first-use work). */
async function d1PerRequest(urls, peer) {
  const probe = async (name, cookie) => {
    let last;
    for (let i = 0; i < 3; i++) last = await call(`${urls[d1count(name)]}/api/auth/get-session`, { headers: { cookie } });
    if (last.status !== 200 || !last.text.includes(peer.userId))
      throw new Error(`setup: ${d1count(name)} get-session answered ${last.status}: ${last.text.slice(0, 300)}`);
    const sql = last.headers.get("x-bench-d1-sql");
    return { d1Statements: Number(last.headers.get("x-bench-d1-statements")), sql: sql ? JSON.parse(sql) : null };
  };
  return {
    peer: await probe(PEER, peer.cookie),
    peerJoins: await probe(PEER_JOINS, peer.cookie),
    peerCookieCache: await probe(PEER_CACHE, peer.cacheCookies),
  };
}

/**
 * Other load generators on this machine: workerd or autocannon processes that are not ours (for
 * example a `npm run bench` in another shell). They skew absolute numbers, and ratios less, since
 * the rows are interleaved; the run records them and the CLI warns.
 */
function foreignBenchProcesses() {
  if (!existsSync("/proc")) return [];
  const ours = new Set([process.pid, ...childWorkerdPids()]);
  const found = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || ours.has(Number(entry))) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").replace(/\0/g, " ").trim();
      if (/(^|\/)workerd serve|bench\/run\.mjs|autocannon/.test(cmdline))
        found.push({ pid: Number(entry), cmdline: cmdline.slice(0, 160) });
    } catch {
      // gone
    }
  }
  return found;
}

const median = (values) => {
  const sorted = values.filter((v) => v !== null && v !== undefined && !Number.isNaN(v)).sort((a, b) => a - b);
  if (!sorted.length) return null;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/**
 * Builds both Workers, serves them in one workerd, sets up a user on each and loads the rows
 * interleaved. Returns the rows ({ name, rps, p50, p99, requests, errors, … }), the ratios
 * (ours / Better Auth, by throughput and by workerd CPU per request) and both bundle sizes.
 */
export async function measurePeer({
  quick = false,
  duration,
  connections,
  rounds,
  warmup,
  log = (line) => process.stderr.write(`${line}\n`),
} = {}) {
  const base = defaults(quick);
  const settings = {
    durationSeconds: Number(duration ?? base.durationSeconds),
    warmupSeconds: Number(warmup ?? base.warmupSeconds),
    rounds: Number(rounds ?? base.rounds),
    connections: Number(connections ?? base.connections),
  };
  const started = performance.now();
  const loadBefore = os.loadavg();
  const othersBefore = foreignBenchProcesses();
  const tmp = mkdtempSync(join(os.tmpdir(), "headykey-peer-bench-"));
  const logs = logCollector();
  let server;
  const stop = async () => {
    await server?.mf.dispose().catch(() => {});
    server = undefined;
    rmSync(tmp, { recursive: true, force: true });
  };
  const onSignal = async (signal) => {
    log(`\n${signal}: stopping`);
    await stop();
    process.exit(130);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    log(
      `peer bench (${quick ? "quick" : "full"}): ${settings.rounds} round(s) of ${settings.durationSeconds} s per row after ${settings.warmupSeconds} s of warm-up, ${settings.connections} connections`,
    );
    log(
      "building both: wrangler deploy --dry-run (ours as bench/server.mjs does; Better Auth with --config bench/peer/wrangler.peer.toml) …",
    );
    const peerBuild = buildPeerBundle(join(tmp, "peer", "bundle"));
    peerBuild.catch(() => {}); // awaited below; ours may throw first
    const ours = buildBundle(join(tmp, "ours", "bundle"));
    const peer = await peerBuild;
    log(`  gzip: ours ${ours.gzipKiB.toFixed(1)} KiB, Better Auth ${peer.gzipKiB.toFixed(1)} KiB`);

    log("starting both on one workerd (Miniflare, direct sockets) …");
    server = await startBoth(ours, peer, { ourSecrets: benchBindings(), peerSecret: randomSecret(), logs });
    const workers = {
      ours: {
        name: OURS,
        compatibilityDate: server.compatibilityDate,
        compatibilityFlags: server.compatibilityFlags,
        migrationStatements: server.ourMigrationStatements,
      },
      peer: {
        name: PEER,
        compatibilityDate: server.peerCompatibilityDate,
        compatibilityFlags: server.peerCompatibilityFlags,
        baseURL: PEER_BASE_URL,
        schemaTables: server.peerSchema.tables,
        options:
          "emailAndPassword, the D1 binding as database, /get-session left out of its rate limiter, telemetry off; otherwise defaults",
      },
      startSeconds: server.startSeconds,
      cpuAccounting: server.workerdPid ? "/proc/<workerd pid>/stat" : "unavailable",
    };
    log(`  ours ${server.urls[OURS]}, Better Auth ${server.urls[PEER]}; ${server.peerSchema.tables.join(", ")} created in its D1`);
    const ourUser = await setUpOurs(server.urls[OURS]);
    const peerUser = await setUpPeer(server.urls);
    const d1 = await d1PerRequest(server.urls, peerUser);
    log(
      `  Better Auth get-session runs ${d1.peer.d1Statements} D1 statement(s) per request; with joins on, ${d1.peerJoins.d1Statements}; with the cookie cache, ${d1.peerCookieCache.d1Statements}`,
    );

    const table = rows(server.urls, ourUser, peerUser).map((row) => ({ ...row, ...specFor(row), samples: [], warmupErrors: 0 }));
    // Before anything is timed: one request of each row must pass its check.
    for (const row of table) {
      const probe = await call(`${row.base}${row.path}`, { headers: row.headers });
      if (!row.valid(probe.status, probe.text))
        throw new Error(`setup: ${row.title} answered ${probe.status}: ${probe.text.slice(0, 300)}`);
    }
    const load = (row, durationSeconds) =>
      runLoad({ baseUrl: row.base, spec: row.spec, connections: settings.connections, durationSeconds, workerdPid: server.workerdPid });

    for (const row of table) {
      const badBefore = row.counter.bad;
      const warm = await load(row, settings.warmupSeconds);
      row.warmupErrors += warm.errors + (row.counter.bad - badBefore);
    }
    for (let round = 0; round < settings.rounds; round++) {
      const order = table.map((_, i) => table[(i + round) % table.length]);
      for (const row of order) {
        const badBefore = row.counter.bad;
        const logsBefore = logs.snapshot();
        const result = await load(row, settings.durationSeconds);
        const badBodies = row.counter.bad - badBefore;
        const sample = {
          round: round + 1,
          ...result,
          badBodies,
          errors: result.errors + badBodies,
          workerErrorLogs: logs.snapshot().error - logsBefore.error,
        };
        row.samples.push(sample);
        log(
          `  r${round + 1} ${row.id.padEnd(30)} ${Math.round(result.rps).toString().padStart(6)} rps  p50 ${result.latencyMs.p50} ms  p99 ${result.latencyMs.p99} ms  ${result.requests} req  errors ${sample.errors}${sample.errors ? " !!" : ""}  workerd ${result.workerdCpuMsPerRequest?.toFixed(3) ?? "?"} ms CPU/req`,
        );
      }
    }
    const othersDuring = foreignBenchProcesses();
    await server.mf.dispose();
    server = undefined;
    const others = [...new Map([...othersBefore, ...othersDuring].map((p) => [p.pid, p])).values()];
    if (others.length) log(`  !! other bench processes ran on this machine during the run: ${others.map((p) => p.cmdline).join(" | ")}`);

    const byId = {};
    const out = table.map((row) => {
      const requests = row.samples.reduce((sum, s) => sum + s.requests, 0);
      const seconds = row.samples.reduce((sum, s) => sum + s.durationSeconds, 0);
      const cpuRequests = row.samples.filter((s) => s.workerdCpuMsPerRequest !== null);
      const cpu = cpuRequests.length
        ? cpuRequests.reduce((sum, s) => sum + s.workerdCpuMsPerRequest * s.requests, 0) /
          cpuRequests.reduce((sum, s) => sum + s.requests, 0)
        : null;
      const statusCodes = {};
      for (const s of row.samples)
        for (const [code, count] of Object.entries(s.statusCodes)) statusCodes[code] = (statusCodes[code] ?? 0) + count;
      const result = {
        id: row.id,
        name: row.title,
        about: row.about,
        informative: row.informative ?? false,
        rps: seconds > 0 ? requests / seconds : 0,
        p50: median(row.samples.map((s) => s.latencyMs.p50)),
        p99: median(row.samples.map((s) => s.latencyMs.p99)),
        requests,
        errors: row.samples.reduce((sum, s) => sum + s.errors, 0) + row.warmupErrors,
        errorDetail: {
          timed: row.samples.reduce((sum, s) => sum + s.errors, 0),
          warmup: row.warmupErrors,
          non2xx: row.samples.reduce((sum, s) => sum + s.non2xx, 0),
          badBodies: row.samples.reduce((sum, s) => sum + s.badBodies, 0),
          connectionErrors: row.samples.reduce((sum, s) => sum + s.connectionErrors, 0),
          timeouts: row.samples.reduce((sum, s) => sum + s.timeouts, 0),
          firstBadResponse: row.counter.firstBad,
          statusCodes,
        },
        workerdCpuMsPerRequest: cpu,
        connections: settings.connections,
        samples: row.samples.map((s) => ({
          round: s.round,
          rps: s.rps,
          p50: s.latencyMs.p50,
          p99: s.latencyMs.p99,
          requests: s.requests,
          errors: s.errors,
          workerdCpuMsPerRequest: s.workerdCpuMsPerRequest,
          workerdCores: s.workerdCores,
          loadGeneratorCores: s.loadGeneratorCores,
        })),
      };
      byId[row.id] = { row, result };
      return result;
    });
    const ceiling = byId.ceiling.result;
    for (const r of out) r.xCeiling = ceiling.rps > 0 ? r.rps / ceiling.rps : null;

    const ratio = (id) => {
      const o = byId[id];
      const p = byId["peer-get-session"];
      const perRound = o.row.samples.map((s, i) => (p.row.samples[i]?.rps ? s.rps / p.row.samples[i].rps : null)).filter((v) => v !== null);
      return {
        ours: o.result.name,
        peer: p.result.name,
        byThroughput: p.result.rps > 0 ? o.result.rps / p.result.rps : null,
        byThroughputPerRound: perRound,
        byCpuPerRequest:
          o.result.workerdCpuMsPerRequest && p.result.workerdCpuMsPerRequest
            ? p.result.workerdCpuMsPerRequest / o.result.workerdCpuMsPerRequest
            : null,
        target: 1.5,
      };
    };
    const ratios = { "verify-hs256": ratio("ours-verify-hs256"), "verify-cookie": ratio("ours-verify-cookie") };
    // A ratio taken over failed requests says nothing: it is not judged.
    for (const [key, r] of Object.entries(ratios)) {
      const clean = byId[`ours-${key}`].result.errors === 0 && byId["peer-get-session"].result.errors === 0;
      r.met = clean && r.byThroughput !== null ? r.byThroughput >= r.target : null;
    }
    // Informative: ours against the two variants (each one Better Auth option away from its defaults).
    for (const [id, key] of [
      ["peer-get-session-joins", "joins"],
      ["peer-get-session-cookie-cache", "cookie-cache"],
    ]) {
      const variant = byId[id].result;
      for (const [ourId, ourKey] of [
        ["ours-verify-hs256", "verify-hs256"],
        ["ours-verify-cookie", "verify-cookie"],
      ]) {
        const o = byId[ourId].result;
        ratios[`${ourKey}-vs-peer-${key}`] = {
          ours: o.name,
          peer: variant.name,
          byThroughput: variant.rps > 0 ? o.rps / variant.rps : null,
          byCpuPerRequest:
            o.workerdCpuMsPerRequest && variant.workerdCpuMsPerRequest ? variant.workerdCpuMsPerRequest / o.workerdCpuMsPerRequest : null,
          informative: true,
        };
      }
    }

    const totalErrors = out.reduce((sum, r) => sum + r.errors, 0);
    return {
      date: new Date().toISOString(),
      mode: quick ? "quick" : "full",
      settings,
      machine: {
        cpuModel: os.cpus()[0]?.model ?? "unknown",
        cores: os.cpus().length,
        loadBefore,
        loadAfter: os.loadavg(),
        otherBenchProcesses: others,
      },
      versions: {
        node: process.version,
        workerd: workerdVersion(),
        miniflare: packageVersion("miniflare"),
        wrangler: packageVersion("wrangler"),
        autocannon: packageVersion("autocannon"),
        betterAuth: packageVersion("better-auth"),
        kysely: packageVersion("kysely"),
      },
      workers,
      bundles: {
        ours: {
          gzipKiB: ours.gzipKiB,
          rawKiB: ours.rawKiB,
          wranglerReported: ours.wranglerReported,
          largestInputs: ours.largestInputs?.slice(0, 8) ?? null,
        },
        peer: { gzipKiB: peer.gzipKiB, rawKiB: peer.rawKiB, wranglerReported: peer.wranglerReported, largestInputs: peer.largestInputs },
      },
      perRequest: {
        ...d1,
        ours: {
          "verify-hs256":
            "HMAC-SHA256 verify of the JWT and its claims, then the session's state from the isolate's cache (REVOCATION_MAX_STALENESS_SECONDS, 30 s): no D1 read when warm, one SELECT (session by id joined to its user) when cold or refreshed in the background",
          "verify-cookie":
            "SHA-256 of the cookie value, then the session's state from the isolate's cache: no D1 read when warm, one SELECT (session by cookie hash joined to its user) when cold or refreshed in the background",
          ceiling: "no D1, no crypto",
        },
      },
      rows: out,
      ratios,
      workerLogs: logs.summary(),
      totalErrors,
      elapsedSeconds: (performance.now() - started) / 1000,
    };
  } finally {
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
    await stop();
  }
}

function randomSecret() {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
}
