// What `npm run bench` loads. Every scenario is measured in the same run as the ceiling and
// reported as a ratio to it. To add a route, add an entry to SCENARIOS:
//
//   { id: "me-hs256", title: "GET /api/auth/me, HS256 bearer",
//     load: async (fx) => get("/api/auth/me", { authorization: `Bearer ${(await fx.user()).accessToken}` }) },
//
// `load(fx)` returns one fixed request (`get`, `post`) or autocannon `requests` with hooks (and
// optionally `beforeEachRun`, awaited before the warm-up and before the timed run); `fx` holds the
// accounts, tokens and keys made once during setup through the public API. Optional:
// `connections` (default 32), `target` (minimum ratio to the ceiling), `note` (printed under the table).

import { freshDevVars } from "../scripts/dev-vars.mjs";

/**
 * Secrets and overrides on top of wrangler.toml's [vars]: the same fresh random secrets
 * `npm run dev` writes to .dev.vars (JWT_SECRET, the local PQC signer, …), new every run.
 */
export function benchBindings() {
  return freshDevVars({ ENVIRONMENT: "test", ISSUER: "https://id.heady.bench" });
}

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
          return { ...request, headers: { ...request.headers, "content-type": "application/json", ...headers }, body: JSON.stringify(json) };
        },
        onResponse,
      },
    ],
  };
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
    about: "access token: signature and claims, then its session row in D1",
    target: 0.85,
    load: async (fx) => get("/api/auth/verify", { authorization: `Bearer ${(await fx.user()).accessToken}` }),
  },
  {
    id: "verify-cookie",
    title: "GET /api/auth/verify, session cookie",
    about: "__Host-heady_session cookie: session looked up by the cookie's hash in D1",
    load: async (fx) => get("/api/auth/verify", { cookie: `__Host-heady_session=${(await fx.user()).cookie}` }),
  },
  {
    id: "verify-api-key",
    title: "GET /api/auth/verify, API key",
    about: "X-API-Key: checksum, SHA-256, key and owner looked up in D1 on every request (no cache yet)",
    target: 0.8,
    load: async (fx) => get("/api/auth/verify", { "x-api-key": await fx.apiKey() }),
  },
  {
    id: "login",
    title: "POST /api/auth/login",
    about: "password verify (PBKDF2) + rate limiter Durable Objects + session insert + token",
    // The hash is CPU-bound and workerd runs one isolate: more connections only add queueing.
    connections: 8,
    note:
      "login rotates through 16 pre-registered accounts and rotates CF-Connecting-IP over 64 addresses " +
      "(2001:db8::/32, a documentation range; only a header), so the per-account (5/15 min) and per-IP " +
      "(30/5 min) limiters never answer 429; 8 connections, since the hash is CPU-bound.",
    load: async (fx) => {
      const accounts = await fx.accounts(16);
      const ip = fx.ipPool("login", 64);
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
  },
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
];

/**
 * Accounts, tokens and keys made once through the public API, each on first use. Every setup call
 * sends its own CF-Connecting-IP so the register limiter (10/hour per IP) never gets in the way.
 */
export function fixtures(baseUrl) {
  const pools = new Map();
  const ipPool = (name, size) => {
    const index = pools.size + 1;
    let n = 0;
    pools.set(name, size);
    return () => `2001:db8:${index.toString(16)}::${(n++ % size).toString(16)}`;
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

  return { api, user, apiKey, accounts, refreshPool, refreshTokens, ipPool };
}
