// What `npm run bench` loads. Every scenario is measured in the same run as the ceiling and
// reported as a ratio to it. To add a route, add an entry to SCENARIOS:
//
//   { id: "me-hs256", title: "GET /api/auth/me, HS256 bearer",
//     load: async (fx) => get("/api/auth/me", { authorization: `Bearer ${(await fx.user()).accessToken}` }) },
//
// `load(fx)` returns one fixed request (`get`, `post`) or autocannon `requests` with hooks (and
// optionally `beforeEachRun`, awaited before the warm-up and before the timed run); `fx` holds the
// accounts, tokens and keys made once during setup through the public API. Optional:
// `connections` (default 32), `target` (minimum ratio to the ceiling, or with
// `targetAgainst: "reference"` to the reference row), `reference` (another scenario's id: the row
// also shows its ratio to that one, both normalised by their own ceilings), `worker` (a variant
// Worker from VARIANTS instead of the main one), `fullOnly` (skipped by --quick), `note`
// (printed under the table). A scenario with `run(ctx)` instead of `load` measures itself
// (the mesh: WebSockets, not HTTP requests) and answers a row shaped like runLoad's.

import { freshDevVars } from "../scripts/dev/dev-vars.ts";
import { EMITTERS, issueNodeTokens, meshTopic, runMeshPair, WINDOW } from "./mesh.mjs";
import { LEDGER_STUB_WORKER } from "./server.mjs";

/**
 * Over the default 1,000 a minute (`MESH_RATE_LIMIT_PER_MINUTE`, docs/configuration.md) a node is throttled; the bench's
 * emitters go far faster (see the mesh note).
 */
export const BENCH_MESH_RATE_LIMIT_PER_MINUTE = "1000000";

/**
 * Secrets and overrides on top of wrangler.toml's [vars]: the same fresh random secrets
 * `npm run dev` writes to .dev.vars (JWT_SECRET, RECEIPT_SEED, ASSERTION_SEED, SAGE_PRIVATE_KEY,
 * PQC_SIGNER=local with PQC_LOCAL_SEED, the bootstrap admin pair), new every run, plus the
 * gateway's route table pointing at the bench origin and the mesh rate override.
 */
export function benchBindings({ gatewayOrigin } = {}) {
  return freshDevVars({
    ENVIRONMENT: "test",
    ISSUER: "https://id.heady.bench",
    MESH_RATE_LIMIT_PER_MINUTE: BENCH_MESH_RATE_LIMIT_PER_MINUTE,
    ...(gatewayOrigin ? { GATEWAY_ROUTES: gatewayRoutesFor(gatewayOrigin) } : {}),
  });
}

/** The gateway table: one route per credential kind, and the bare public proxy, all to the bench origin. */
export function gatewayRoutesFor(origin) {
  const route = (prefix, require) => ({ prefix, methods: ["GET"], origin, require });
  return [
    route("/bench/bare", { kind: "public" }),
    route("/bench/jwt", { kind: "jwt", minRole: "user" }),
    route("/bench/key", { kind: "api_key", scopes: ["bench:read"] }),
    route("/bench/pqc", { kind: "pqc", service: "headyme", operation: "sync" }),
  ];
}

/**
 * Copies of the same bundle in the same workerd process (see startWorker), each with its own
 * direct socket and Durable Object namespaces, sharing D1 and KV with the main Worker.
 */
export const VARIANTS = [
  {
    name: "ledger-off",
    about: "LEDGER bound to a stub Durable Object that acknowledges every append at once (bench/server.mjs LEDGER_STUB_SCRIPT)",
    durableObjects: { LEDGER: { className: "StubLedger", scriptName: LEDGER_STUB_WORKER } },
  },
  {
    name: "mesh-stub",
    about: "PULSE_AUTH_MODE=stub (no node tokens; ENVIRONMENT=test)",
    bindings: { PULSE_AUTH_MODE: "stub" },
  },
];

export const get = (path, headers = {}) => ({ method: "GET", path, headers });
export const post = (path, json, headers = {}) => ({
  method: "POST",
  path,
  headers: { "content-type": "application/json", ...headers },
  body: JSON.stringify(json),
});

/** `load` hooks for a POST whose body and client address change on every request. */
function rotatingPost(path, next, onResponse) {
  return {
    path,
    requests: [
      {
        method: "POST",
        path,
        setupRequest(request) {
          const { json, headers } = next();
          return {
            ...request,
            headers: { ...request.headers, "content-type": "application/json", ...headers },
            body: JSON.stringify(json),
          };
        },
        onResponse,
      },
    ],
  };
}

/** Login through rotating accounts and client addresses (see its note); `worker` picks the variant. */
function loginScenario({ id, ...rest }) {
  return {
    id,
    ...rest,
    // The hash is CPU-bound and workerd runs one isolate: more connections only add queueing.
    connections: 8,
    load: async (fx) => {
      const accounts = await fx.accounts(16);
      const ip = fx.ipPool(id, 64);
      let n = 0;
      return {
        ...rotatingPost(
          "/api/auth/login",
          () => {
            const account = accounts[n++ % accounts.length];
            return { json: { email: account.email, password: account.password }, headers: { "cf-connecting-ip": ip() } };
          },
          (status, body) => {
            if (status === 200) fx.refreshTokens.push(JSON.parse(body).refreshToken);
          },
        ),
        timeoutSeconds: 30,
      };
    },
  };
}

/**
 * Token mode on the main Worker, stub mode on the mesh-stub variant; N subscribers on one topic.
 * The token row measures both, interleaved (bench/mesh.mjs runMeshPair: token, stub, stub, token, twice);
 * the stub row reports the stub half of that same measurement.
 */
function meshScenarios(subscribers) {
  const common = {
    subscribers,
    connections: subscribers,
    fullOnly: subscribers >= 100,
    unit: "pulses",
  };
  let stubHalf;
  const plural = subscribers > 1 ? "s" : "";
  return [
    {
      ...common,
      id: `mesh-${subscribers}-token`,
      title: `mesh ${meshTopic(subscribers)}: ${subscribers} subscriber${plural}, token mode`,
      about: `pulses/s delivered to ${subscribers} subscriber(s) from ${EMITTERS} emitters (${WINDOW} pulses in flight each), nodes admitted with RS256 node tokens`,
      reference: `mesh-${subscribers}-stub`,
      referenceLabel: "token / stub",
      target: 0.95,
      targetAgainst: "reference",
      // The stub row that follows was measured in the same window: one ceiling probe after both.
      probeAfter: false,
      async run(ctx) {
        stubHalf = undefined;
        const tokens = await ctx.fx.nodeTokens(subscribers);
        const baseUrls = { token: ctx.baseUrl, stub: ctx.variantUrls["mesh-stub"] };
        const pair = await runMeshPair({
          baseUrls,
          subscribers,
          tokens,
          durationSeconds: ctx.durationSeconds,
          warmupSeconds: ctx.warmupSeconds,
          workerdPid: ctx.workerdPid,
          // Full runs: ABBA twice (four 2.5 s segments per mode); --quick: ABBA once (1 s segments).
          rounds: ctx.quick ? 1 : 2,
        });
        stubHalf = pair.stub;
        return pair.token;
      },
    },
    {
      ...common,
      id: `mesh-${subscribers}-stub`,
      title: `mesh ${meshTopic(subscribers)}: ${subscribers} subscriber${plural}, stub mode`,
      about:
        "the same on the mesh-stub variant (PULSE_AUTH_MODE=stub: nodes name themselves with ?node_id=, no token, no D1 at connect), measured interleaved with the token row",
      worker: "mesh-stub",
      measuredWith: `mesh-${subscribers}-token`,
      async run() {
        if (!stubHalf) throw new Error(`measured together with mesh-${subscribers}-token, which did not complete`);
        return stubHalf;
      },
    },
  ];
}

export const SCENARIOS = [
  {
    id: "ceiling",
    title: "GET /ping (ceiling)",
    about: "a bare Hono route through the app's middleware (request id, config, CORS, body size)",
    load: () => get("/ping"),
  },
  {
    id: "d1-floor",
    title: "GET /health (one D1 query)",
    about: "reference, no target: one D1 round trip (SELECT 1), the floor under every route that reads D1",
    load: () => get("/health"),
  },
  {
    id: "verify-hs256",
    title: "GET /api/auth/verify, HS256 bearer",
    about:
      "access token: signature and claims, then its session's state from the isolate cache (a D1 replica read when cold or past the staleness bound)",
    target: 0.85,
    load: async (fx) => get("/api/auth/verify", { authorization: `Bearer ${(await fx.user()).accessToken}` }),
  },
  {
    id: "verify-cookie",
    title: "GET /api/auth/verify, session cookie",
    about:
      "__Host-heady_session cookie: SHA-256 of the value, then the session's state from the isolate cache (a D1 replica read when cold or past the bound)",
    load: async (fx) => get("/api/auth/verify", { cookie: `__Host-heady_session=${(await fx.user()).cookie}` }),
  },
  {
    id: "verify-api-key",
    title: "GET /api/auth/verify, API key",
    about: "X-API-Key: checksum, SHA-256, then the key and owner from the isolate cache (a D1 replica read when cold or past the bound)",
    target: 0.8,
    load: async (fx) => get("/api/auth/verify", { "x-api-key": await fx.apiKey() }),
  },
  {
    id: "verify-pqc-token",
    title: "GET /api/auth/verify, PQC token (X-Heady-PQC-Token)",
    about: "ML-DSA-65 JWS (headyme/sync): header, public key by kid (isolate cache, then KV), native WebCrypto verify, claims; no D1",
    target: 0.8,
    load: async (fx) => get("/api/auth/verify", { "x-heady-pqc-token": (await fx.pqc()).value }),
  },
  {
    id: "verify-pqc-ref",
    title: "GET /api/auth/verify, PQC reference (Bearer)",
    about: "32-byte reference: its SHA-256 looked up in D1 for the token, then verified as above; cached per isolate until the token's exp",
    load: async (fx) => get("/api/auth/verify", { authorization: `Bearer ${(await fx.pqc({ reference: true })).value}` }),
  },
  {
    id: "gw-bare",
    title: "GET /gw/bench/bare/…, public proxy",
    about:
      "gateway route with require public: match, Ed25519 X-Heady-Assertion, forward to the bench origin (a Node server on loopback) and relay its answer",
    load: () => get("/gw/bench/bare/item"),
  },
  {
    id: "gw-jwt",
    title: "GET /gw/bench/jwt/…, access token (jwt, minRole user)",
    about: "the same proxy behind an HS256 access token: signature, claims, the session's state within the bound, role",
    reference: "gw-bare",
    referenceLabel: "× bare proxy",
    load: async (fx) => get("/gw/bench/jwt/item", { authorization: `Bearer ${(await fx.user()).accessToken}` }),
  },
  {
    id: "gw-api-key",
    title: "GET /gw/bench/key/…, API key (scope bench:read)",
    about: "the same proxy behind an hdy_ API key with scope bench:read: SHA-256, the key and owner within the bound, scopes",
    reference: "gw-bare",
    referenceLabel: "× bare proxy",
    load: async (fx) => get("/gw/bench/key/item", { "x-api-key": await fx.scopedApiKey() }),
  },
  {
    id: "gw-pqc",
    title: "GET /gw/bench/pqc/…, PQC token (headyme/sync)",
    about:
      "the same proxy behind a PQC token in X-Heady-PQC-Token; the gateway caches a verified PQC credential per isolate until its exp (src/pqc/verified-cache.ts)",
    reference: "gw-bare",
    referenceLabel: "× bare proxy",
    load: async (fx) => get("/gw/bench/pqc/item", { "x-heady-pqc-token": (await fx.pqc()).value }),
  },
  {
    id: "gw-pqc-ref",
    title: "GET /gw/bench/pqc/…, PQC reference (Bearer)",
    about: "the same route with a PQC reference as the bearer token (cached per isolate like the token, so no KV read once warm)",
    reference: "gw-bare",
    referenceLabel: "× bare proxy",
    load: async (fx) => get("/gw/bench/pqc/item", { authorization: `Bearer ${(await fx.pqc({ reference: true })).value}` }),
  },
  loginScenario({
    id: "login",
    title: "POST /api/auth/login (ledger on)",
    reference: "login-ledger-off",
    referenceLabel: "ledger on / off",
    about: "password verify (PBKDF2) + rate limiter Durable Objects + session insert + token + the audit ledger append and its receipt",
    note:
      "login rotates through 16 pre-registered accounts and rotates CF-Connecting-IP over 64 addresses " +
      "(2001:db8::/32, a documentation range, each in its own /64; only a header), so the per-account (5/15 min) and per-IP " +
      "(30/5 min) limiters never answer 429; 8 connections, since the hash is CPU-bound.",
  }),
  loginScenario({
    id: "login-ledger-off",
    title: "POST /api/auth/login (ledger off)",
    worker: "ledger-off",
    about:
      "the same login on the ledger-off variant: LEDGER is a stub object that acknowledges at once (no chain row, hash, Ed25519 receipt or D1 export)",
    note:
      "ledger on / off: the same bundle in the same workerd process; the off variant binds LEDGER to a stub Durable Object " +
      "(bench/server.mjs) whose append() answers {seq, hash, receipt: null} at once, so login still makes its RPC to an object " +
      "but no SQLite row, no hash chain, no Ed25519 receipt and no export to D1; the response then carries no X-Heady-Receipt. " +
      "Same accounts (D1 is shared), its own limiter objects and its own IP pool.",
  }),
  {
    id: "refresh",
    title: "POST /api/auth/refresh",
    about: "one-time refresh token rotated in D1, new HS256 access token, audit row",
    note:
      "refresh tokens work once: each connection takes a fresh token from a pool (minted by register and login) " +
      "and returns the one each response carries, so every request presents a token never used before " +
      "(the pool is topped up by logins before each run, since tokens in flight when a run stops are lost); " +
      "CF-Connecting-IP rotates over 128 addresses so the per-IP limiter (120/min) never answers 429.",
    load: async (fx) => {
      const tokens = fx.refreshTokens;
      const ip = fx.ipPool("refresh", 128);
      return {
        ...rotatingPost(
          "/api/auth/refresh",
          () => ({ json: { refreshToken: tokens.shift() ?? "bench-pool-exhausted" }, headers: { "cf-connecting-ip": ip() } }),
          (status, body) => {
            if (status === 200) tokens.push(JSON.parse(body).refreshToken);
          },
        ),
        beforeEachRun: (connections) => fx.refreshPool(connections + 8),
      };
    },
  },
  ...meshScenarios(1),
  ...meshScenarios(10),
  ...meshScenarios(100),
];

/** A PQC credential is minted again when it has less than this left (tokens live 300 s). */
const PQC_MIN_REMAINING_SECONDS = 120;

/**
 * Accounts, tokens and keys made once through the public API, each on first use. Every setup call
 * sends its own CF-Connecting-IP so the register limiter (10/hour per IP) never gets in the way.
 * `bootstrapAdmin` is the env's admin pair (it signs in as admin for the mesh's node tokens).
 * `facts` collects what the report states beside the table (token sizes).
 */
export function fixtures(baseUrl, { bootstrapAdmin } = {}) {
  const pools = new Map();
  const ipPool = (name, size) => {
    const index = pools.size + 1;
    let n = 0;
    pools.set(name, size);
    // One /64 per address: per-IP limits key IPv6 clients by their /64.
    return () => `2001:db8:${index.toString(16)}:${(n++ % size).toString(16)}::1`;
  };
  const setupIp = ipPool("setup", 65_536);

  async function api(method, path, { json, headers = {} } = {}) {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { "cf-connecting-ip": setupIp(), ...(json ? { "content-type": "application/json" } : {}), ...headers },
      body: json ? JSON.stringify(json) : undefined,
    });
    const text = await response.text();
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    return { status: response.status, headers: response.headers, body };
  }

  async function expectStatus(call, status, what) {
    const result = await call;
    if (result.status !== status) {
      throw new Error(`setup: ${what} answered ${result.status}, expected ${status}: ${JSON.stringify(result.body).slice(0, 500)}`);
    }
    return result;
  }

  const password = "bench-password: correct horse battery staple";
  let registered = 0;
  const refreshTokens = [];
  async function register() {
    const email = `bench-${++registered}-${Date.now().toString(36)}@bench.heady.test`;
    const { body, headers } = await expectStatus(
      api("POST", "/api/auth/register", { json: { email, password, displayName: `Bench ${registered}` } }),
      201,
      "POST /api/auth/register",
    );
    const cookie = /__Host-heady_session=([^;]+)/.exec(headers.get("set-cookie") ?? "")?.[1];
    if (!cookie) throw new Error("setup: register set no __Host-heady_session cookie");
    refreshTokens.push(body.refreshToken);
    return { email, password, accessToken: body.accessToken, cookie, userId: body.user.id };
  }

  const once = (make) => {
    let value;
    return () => (value ??= make());
  };

  const user = once(register);
  const apiKey = once(async () => {
    const { accessToken } = await user();
    const { body } = await expectStatus(
      api("POST", "/api/auth/api-keys", { json: { description: "bench" }, headers: { authorization: `Bearer ${accessToken}` } }),
      201,
      "POST /api/auth/api-keys",
    );
    return body.key;
  });
  const accountList = [];
  async function accounts(count) {
    while (accountList.length < count) accountList.push(await register());
    return accountList;
  }
  /** At least `count` unused refresh tokens (tops up with logins when register and login made too few). */
  async function refreshPool(count) {
    const [account] = await accounts(1);
    while (refreshTokens.length < count) {
      const { body } = await expectStatus(
        api("POST", "/api/auth/login", { json: { email: account.email, password: account.password } }),
        200,
        "POST /api/auth/login",
      );
      refreshTokens.push(body.refreshToken);
    }
    return refreshTokens;
  }

  /** An API key with scope bench:read, for the gateway's api_key route. */
  const scopedApiKey = once(async () => {
    const { accessToken } = await user();
    const { body } = await expectStatus(
      api("POST", "/api/auth/api-keys", {
        json: { description: "bench gateway", scopes: ["bench:read"] },
        headers: { authorization: `Bearer ${accessToken}` },
      }),
      201,
      "POST /api/auth/api-keys (scopes bench:read)",
    );
    return body.key;
  });

  const facts = {};
  /**
   * A PQC token (or with `reference`, a reference to one) for headyme/sync, requested with the
   * bench user's access token. Issuance is limited to 60 a minute per caller and a token lives
   * 300 s, so one credential of each kind is reused across scenarios and minted again only when
   * it has less than PQC_MIN_REMAINING_SECONDS left.
   */
  const pqcCache = new Map();
  async function pqc({ reference = false } = {}) {
    const kind = reference ? "reference" : "token";
    const cached = pqcCache.get(kind);
    if (cached && cached.expiresAt - Date.now() > PQC_MIN_REMAINING_SECONDS * 1000) return cached;
    const { accessToken } = await user();
    const { body } = await expectStatus(
      api("POST", "/api/auth/request-pqc-token", {
        json: { service: "headyme", operation: "sync", ...(reference ? { reference: true } : {}) },
        headers: { authorization: `Bearer ${accessToken}` },
      }),
      200,
      `POST /api/auth/request-pqc-token${reference ? " (reference)" : ""}`,
    );
    const value = reference ? body.reference : body.pqcToken;
    if (typeof value !== "string") throw new Error(`setup: request-pqc-token answered no ${kind}: ${JSON.stringify(body).slice(0, 300)}`);
    const minted = { value, expiresAt: Date.now() + body.expiresIn * 1000 };
    pqcCache.set(kind, minted);
    facts.pqcMinted = (facts.pqcMinted ?? 0) + 1;
    facts.pqcExpiresInSeconds = body.expiresIn;
    if (reference) facts.pqcReferenceBytes = Buffer.byteLength(value);
    else {
      facts.pqcTokenBytes = Buffer.byteLength(value);
      const [header, payload, signature] = value.split(".");
      facts.pqcTokenParts = { headerBytes: header.length, payloadBytes: payload.length, signatureBytes: signature.length };
      facts.pqcTokenHeader = JSON.parse(Buffer.from(header, "base64url").toString("utf8"));
    }
    return minted;
  }

  /** Signs in with the env's bootstrap admin pair. */
  const admin = once(async () => {
    if (!bootstrapAdmin?.email || !bootstrapAdmin?.password) throw new Error("setup: no bootstrap admin pair in the bench bindings");
    const { body } = await expectStatus(
      api("POST", "/api/auth/login", { json: bootstrapAdmin }),
      200,
      "POST /api/auth/login (bootstrap admin)",
    );
    if (body.user?.role !== "admin") throw new Error(`setup: the bootstrap admin signed in with role ${body.user?.role}`);
    return body.accessToken;
  });

  /**
   * Access tokens of two node-token issuers: the bootstrap admin, and a user it registers and
   * promotes to operator (who signs in again, so that the new token carries the role).
   */
  const operators = once(async () => {
    const adminToken = await admin();
    const operator = await register();
    await expectStatus(
      api("PUT", `/api/admin/users/${operator.userId}/role`, {
        json: { role: "operator" },
        headers: { authorization: `Bearer ${adminToken}` },
      }),
      200,
      "PUT /api/admin/users/:id/role (operator)",
    );
    const { body } = await expectStatus(
      api("POST", "/api/auth/login", { json: { email: operator.email, password: operator.password } }),
      200,
      "POST /api/auth/login (operator)",
    );
    if (body.user?.role !== "operator") throw new Error(`setup: the promoted user signed in with role ${body.user?.role}`);
    return [adminToken, body.accessToken];
  });

  /** Node tokens for the emitters and `count` subscribers (one per node, issued once, kept for the run). */
  const nodeTokenMap = new Map();
  async function nodeTokens(count) {
    await issueNodeTokens(fx, count, nodeTokenMap);
    facts.nodeTokensIssued = nodeTokenMap.size;
    facts.nodeTokenBytes = Buffer.byteLength(nodeTokenMap.values().next().value ?? "");
    return nodeTokenMap;
  }

  const fx = {
    api,
    expect: expectStatus,
    user,
    apiKey,
    scopedApiKey,
    accounts,
    refreshPool,
    refreshTokens,
    ipPool,
    pqc,
    admin,
    operators,
    nodeTokens,
    facts,
  };
  return fx;
}
