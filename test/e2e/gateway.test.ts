import { createServer, request as httpRequest, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type AssertionClaims, AssertionError, createAssertionVerifier } from "../../src/clients/origin/verify-assertion";
import { describeRequirement, type Requirement } from "../../src/gateway/routes-config";
import { baseUrl, request } from "../support/e2e/client";
import { gatewayRoutesFor } from "../support/e2e/gateway-origin";
import { randomIp, uniqueEmail } from "../support/fresh";

/**
 * The gateway end to end: `wrangler dev` (started by the global setup with the route table of
 * test/support/e2e/gateway-origin.ts) in front of a real origin, a Node HTTP server on loopback that this file
 * runs. The origin verifies every `X-Heady-Assertion` with the package's helper from the JWKS
 * alone, and echoes what reached it, so each test can say exactly what crossed the gateway.
 * mTLS cannot be presented through `wrangler dev`: its passing case is in test/http/gateway.test.ts.
 */

const ISSUER = "https://id.heady.local"; // wrangler.toml's ISSUER
const PASSWORD = "granite willow compass ember";

interface Arrival {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  claims?: AssertionClaims;
  refused?: string;
}

const originUrl = inject("gatewayOrigin");
const arrivals: Arrival[] = [];
let server: Server;

beforeAll(async () => {
  const verifier = createAssertionVerifier({ jwksUrl: `${baseUrl()}/.well-known/jwks.json`, issuer: ISSUER, audience: originUrl });
  server = createServer(async (request, response) => {
    const arrival: Arrival = { method: request.method ?? "", url: request.url ?? "", headers: request.headers };
    arrivals.push(arrival);
    try {
      arrival.claims = await verifier.verify(request);
    } catch (error) {
      arrival.refused = error instanceof AssertionError ? error.reason : String(error);
      response.writeHead(401, { "Content-Type": "application/json" }).end(JSON.stringify(arrival));
      return;
    }
    if (request.url?.startsWith("/api/crash")) {
      response
        .writeHead(500, { "Content-Type": "text/plain" })
        .end("TypeError: boom\n    at handler (/srv/origin/internal/billing.js:42:7)");
      return;
    }
    if (request.url?.startsWith("/api/slow")) {
      setTimeout(() => response.writeHead(200).end("too late"), 3000).unref();
      return;
    }
    response.writeHead(200, { "Content-Type": "application/json", "X-Origin": "node" }).end(JSON.stringify(arrival));
  });
  const { port } = new URL(originUrl);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(Number(port), "127.0.0.1", resolve);
  });
  expect((server.address() as AddressInfo).port).toBe(Number(port));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** A request through the gateway (`/gw` + path); `arrived` is what the origin saw of it, if anything. */
async function through(
  method: string,
  path: string,
  options: { token?: string; headers?: Record<string, string>; body?: unknown } = {},
): Promise<{ status: number; body: any; headers: Headers; arrived: Arrival | undefined }> {
  const before = arrivals.length;
  const response = await request(method, `/gw${path}`, options);
  expect(arrivals.length - before).toBeLessThanOrEqual(1);
  return { ...response, arrived: arrivals[before] };
}

/** Sends the path byte for byte (fetch would normalise `..` and `\` before sending). */
function rawRequest(method: string, path: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(baseUrl());
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest({ host: hostname, port, method, path }, (incoming) => {
      let body = "";
      incoming.setEncoding("utf8");
      incoming.on("data", (chunk) => (body += chunk));
      incoming.on("end", () => resolve({ status: incoming.statusCode ?? 0, body }));
    });
    outgoing.on("error", reject);
    outgoing.end();
  });
}

/** The request reached the origin, and the origin's helper accepted its assertion; returns the claims. */
function passed(result: { status: number; body: any; arrived: Arrival | undefined }): AssertionClaims {
  expect(result.status, JSON.stringify(result.body)).toBe(200);
  expect(result.arrived?.refused).toBeUndefined();
  return result.arrived!.claims!;
}

/** The gateway refused: the given answer, and nothing reached the origin. */
function refused(result: { status: number; body: any; arrived: Arrival | undefined }, status: number, code: string): string {
  expect(result.status, JSON.stringify(result.body)).toBe(status);
  expect(result.body.error.code).toBe(code);
  expect(result.arrived).toBeUndefined();
  return result.body.error.message;
}

interface Account {
  userId: string;
  accessToken: string;
  cookie: string;
}

async function register(label: string): Promise<Account> {
  const registered = await request("POST", "/api/auth/register", { body: { email: uniqueEmail(label), password: PASSWORD } });
  expect(registered.status).toBe(201);
  const cookie = /__Host-heady_session=([^;]+)/.exec(registered.headers.get("set-cookie") ?? "")?.[1] ?? "";
  return { userId: registered.body.user.id, accessToken: registered.body.accessToken, cookie };
}

/** A fresh operator: registered, promoted by the bootstrap admin, signed in again for a token with the role. */
async function operatorAccount(): Promise<Account> {
  const email = uniqueEmail("gw-operator");
  const registered = await request("POST", "/api/auth/register", { body: { email, password: PASSWORD } });
  expect(registered.status).toBe(201);
  const admin = await request("POST", "/api/auth/login", { body: inject("bootstrapAdmin") });
  expect(admin.status).toBe(200);
  const promoted = await request("PUT", `/api/admin/users/${registered.body.user.id}/role`, {
    token: admin.body.accessToken,
    body: { role: "operator" },
  });
  expect(promoted.status).toBe(200);
  const login = await request("POST", "/api/auth/login", { body: { email, password: PASSWORD } });
  expect(login.body.user.role).toBe("operator");
  const cookie = /__Host-heady_session=([^;]+)/.exec(login.headers.get("set-cookie") ?? "")?.[1] ?? "";
  return { userId: login.body.user.id, accessToken: login.body.accessToken, cookie };
}

async function pqcToken(account: Account, service: string, operation: string, reference = false): Promise<string> {
  const issued = await request("POST", "/api/auth/request-pqc-token", {
    token: account.accessToken,
    body: { service, operation, reference },
  });
  expect(issued.status, JSON.stringify(issued.body)).toBe(200);
  return reference ? issued.body.reference : issued.body.pqcToken;
}

async function apiKey(account: Account, scopes: string[]): Promise<{ id: string; key: string }> {
  const created = await request("POST", "/api/auth/api-keys", { token: account.accessToken, body: { description: "gateway e2e", scopes } });
  expect(created.status).toBe(201);
  return { id: created.body.id, key: created.body.key };
}

let user: Account;
let operator: Account;
beforeAll(async () => {
  [user, operator] = await Promise.all([register("gw-user"), operatorAccount()]);
});

describe("gateway against wrangler dev, in front of a real origin: each policy kind", () => {
  it("public: forwarded to the origin's own path, with an assertion saying nothing was checked", async () => {
    const result = await through("GET", "/api/status?verbose=1");
    const claims = passed(result);
    expect(result.arrived?.url).toBe("/api/status?verbose=1");
    expect(result.headers.get("X-Origin")).toBe("node");
    expect(claims).toMatchObject({ iss: ISSUER, aud: originUrl, cred: "none", req: "public", htm: "GET", htu: `${originUrl}/api/status` });
    expect(claims.jti).toBe(result.headers.get("X-Request-Id"));
  });

  it("jwt (operator): 401 without a credential, 403 for a user, 200 for an operator by token or session cookie", async () => {
    expect(refused(await through("GET", "/api/reports/q3"), 401, "unauthorized")).toContain("operator role");
    expect(refused(await through("GET", "/api/reports/q3", { token: user.accessToken }), 403, "forbidden")).toContain("operator role");
    expect(passed(await through("GET", "/api/reports/q3", { token: operator.accessToken }))).toMatchObject({
      sub: operator.userId,
      role: "operator",
      cred: "access_token",
      req: "jwt:operator",
    });
    const byCookie = await through("GET", "/api/reports/q3", { headers: { Cookie: `__Host-heady_session=${operator.cookie}` } });
    expect(passed(byCookie)).toMatchObject({ sub: operator.userId, cred: "session_cookie" });
  });

  it("api_key (sync:read): 401 without a key or with a token, 403 without the scope, 200 with it", async () => {
    expect(refused(await through("GET", "/api/sync/items"), 401, "unauthorized")).toContain("sync:read");
    refused(await through("GET", "/api/sync/items", { token: user.accessToken }), 401, "unauthorized");
    const pqcOnly = await apiKey(user, ["pqc"]);
    expect(refused(await through("GET", "/api/sync/items", { headers: { "X-API-Key": pqcOnly.key } }), 403, "forbidden")).toContain(
      "lacks sync:read",
    );
    const reader = await apiKey(user, ["sync:read"]);
    expect(passed(await through("GET", "/api/sync/items", { headers: { "X-API-Key": reader.key } }))).toMatchObject({
      sub: user.userId,
      cred: "api_key",
      req: "api_key:sync:read",
      scopes: ["sync:read"],
    });
  });

  it("pqc (the guide's routes): 401 pqc_required, 403 for another operation, 200 with the right token or reference", async () => {
    const none = await through("POST", "/api/sync/privileged-operation", { token: user.accessToken });
    expect(refused(none, 401, "pqc_required")).toBe("This route requires a PQC token for headyme/sync.");
    const wrongOperation = await through("POST", "/api/sync/privileged-operation", {
      headers: { "X-Heady-PQC-Token": await pqcToken(user, "headyme", "privileged-operation") },
    });
    expect(refused(wrongOperation, 403, "pqc_scope_mismatch")).toContain("headyme/privileged-operation");
    const sync = await through("POST", "/api/sync/privileged-operation", {
      headers: { "X-Heady-PQC-Token": await pqcToken(user, "headyme", "sync") },
    });
    expect(passed(sync)).toMatchObject({
      sub: user.userId,
      cred: "pqc_token",
      req: "pqc:headyme/sync",
      service: "headyme",
      operation: "sync",
    });

    const clone = await pqcToken(operator, "production", "clone");
    expect(passed(await through("POST", "/api/repo/clone", { token: clone }))).toMatchObject({
      req: "pqc:production/clone",
      role: "operator",
    });
    expect(refused(await through("POST", "/api/repo/deploy", { token: clone }), 403, "pqc_scope_mismatch")).toContain("production/deploy");
    const deployReference = await pqcToken(operator, "production", "deploy", true);
    expect(passed(await through("POST", "/api/repo/deploy", { token: deployReference }))).toMatchObject({ req: "pqc:production/deploy" });
  });

  it("mtls: without a client certificate (wrangler dev cannot present one) it is 403, naming the requirement", async () => {
    const result = await through("GET", "/devices/7", { token: operator.accessToken });
    expect(refused(result, 403, "forbidden")).toContain("client certificate verified at the edge (mTLS)");
  });

  it("a revoked API key is refused on the next request", async () => {
    const { id, key } = await apiKey(user, ["sync:read"]);
    passed(await through("GET", "/api/sync/items", { headers: { "X-API-Key": key } }));
    expect((await request("DELETE", `/api/auth/api-keys/${id}`, { token: user.accessToken })).status).toBe(204);
    refused(await through("GET", "/api/sync/items", { headers: { "X-API-Key": key } }), 401, "invalid_token");
  });
});

describe("gateway against wrangler dev: what crosses it", () => {
  it("spoofed X-Heady-* (and X-Forwarded-*) never reach the origin; the credentials stay behind too", async () => {
    const result = await through("GET", "/api/reports/q3", {
      token: operator.accessToken,
      headers: {
        "X-Heady-Assertion": "eyJhbGciOiJub25lIn0.eyJzdWIiOiJyb290In0.",
        "X-Heady-User": "root",
        "X-Heady-Role": "admin",
        "X-Heady-PQC-Token": "not-even-a-token",
        "X-Forwarded-For": "10.9.9.9",
        "X-Forwarded-User": "root",
        Forwarded: "for=10.9.9.9",
        Cookie: `theme=dark; __Host-heady_session=${operator.cookie}`,
        "X-Custom": "kept",
      },
    });
    const claims = passed(result);
    const { headers } = result.arrived!;
    expect(Object.keys(headers).filter((name) => name.startsWith("x-heady-"))).toEqual(["x-heady-assertion"]);
    expect(headers["x-heady-assertion"]).not.toContain("eyJhbGciOiJub25lIn0");
    expect(headers["x-heady-user"]).toBeUndefined();
    expect(headers.forwarded).toBeUndefined();
    expect(headers["x-forwarded-user"]).toBeUndefined();
    // wrangler dev's own proxy may add an X-Forwarded-For of its own; never the client's.
    expect(JSON.stringify(headers)).not.toContain("10.9.9.9");
    expect(headers.authorization).toBeUndefined();
    expect(headers.cookie).toBe("theme=dark");
    expect(headers["x-custom"]).toBe("kept");
    expect(claims).toMatchObject({ sub: operator.userId, role: "operator" });
  });

  it("a route with forwardCredentials passes the caller's token on", async () => {
    const result = await through("GET", "/api/passthrough/me", { token: user.accessToken });
    passed(result);
    expect(result.arrived?.headers.authorization).toBe(`Bearer ${user.accessToken}`);
  });

  it("the origin verifies the assertion from the JWKS alone, and it cannot be replayed, moved or left out", async () => {
    const result = await through("POST", "/api/repo/clone", { token: await pqcToken(operator, "production", "clone") });
    const claims = passed(result);
    expect(claims).toMatchObject({ aud: originUrl, htm: "POST", htu: `${originUrl}/api/repo/clone` });
    const assertion = result.arrived!.headers["x-heady-assertion"] as string;

    // Straight to the origin, bypassing the gateway: a copy of the header does not get anyone in.
    const direct = (path: string, method: string, headers: Record<string, string>) => fetch(`${originUrl}${path}`, { method, headers });
    const replayed = await direct("/api/repo/clone", "POST", { "X-Heady-Assertion": assertion });
    expect(replayed.status).toBe(401);
    expect((await replayed.json()).refused).toBe("replayed");
    expect((await (await direct("/api/repo/deploy", "POST", { "X-Heady-Assertion": assertion })).json()).refused).toBe("wrong_path");
    expect((await (await direct("/api/repo/clone", "DELETE", { "X-Heady-Assertion": assertion })).json()).refused).toBe("wrong_method");
    expect((await (await direct("/api/repo/clone", "POST", {})).json()).refused).toBe("missing");
  });
});

describe("gateway against wrangler dev: path tricks", () => {
  it.each([
    ["/gw/api/public/..%2frepo/clone", "encoded slashes"],
    ["/gw/api/public/..%2Frepo/clone", "encoded slashes"],
    ["/gw/api/public/..%5crepo/clone", "encoded slashes and backslashes"],
    ["/gw/api//repo/clone", "empty path segments"],
    ["/gw/api/repo;/clone", "path parameters"],
    ["/gw/api/..;/repo/clone", "path parameters"],
    ["/gw/api/%252e%252e/repo/clone", "double percent-encoding"],
    ["/gw/api/%EF%BC%8E%EF%BC%8E/repo/clone", "dot segments"],
  ])("%s is refused with 400 (%s) and never reaches the origin", async (path, reason) => {
    const before = arrivals.length;
    const response = await rawRequest("POST", path);
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body).error).toMatchObject({ code: "invalid_request", message: expect.stringContaining(reason) });
    expect(arrivals.length).toBe(before);
  });

  // The runtime's URL parser resolves these before the Worker sees them (WHATWG: `..`, `.`, `%2e%2e`,
  // and `\` as `/`), so they arrive as /api/repo/clone and meet that route's own PQC rule.
  it.each(["/gw/api/public/../repo/clone", "/gw/api/./repo/clone", "/gw/api/public/%2e%2e/repo/clone", "/gw/api/public/..\\repo/clone"])(
    "%s meets the PQC rule of the path it resolves to, not the public /api",
    async (path) => {
      const before = arrivals.length;
      const response = await rawRequest("POST", path);
      expect(response.status).toBe(401);
      expect(JSON.parse(response.body).error.message).toBe("This route requires a PQC token for production/clone.");
      expect(arrivals.length).toBe(before);
    },
  );

  it("case and percent-encoding cannot dodge the PQC rule into the public /api", async () => {
    for (const path of ["/gw/api/REPO/CLONE", "/gw/api/%72epo/clone", "/gw/API/Repo/clone/"]) {
      const before = arrivals.length;
      const response = await rawRequest("POST", path);
      expect(response.status, path).toBe(401);
      expect(JSON.parse(response.body).error.code).toBe("pqc_required");
      expect(arrivals.length).toBe(before);
    }
  });

  // Spellings that IIS (trailing dots and spaces, ::$DATA, 8.3 names), Spring (suffixes, trimmed
  // tokens, ;jsessionid) or a Unicode-folding origin would serve as the PQC-protected clone route.
  it.each([
    "/gw/api/repo./clone",
    "/gw/api/repo%20/clone",
    "/gw/api/repo/clone.",
    "/gw/api/repo/clone%20",
    "/gw/api/repo/%20clone",
    "/gw/api/repo/clone::$DATA",
    "/gw/api/REPO~1/clone",
    "/gw/api/repo/clone%E2%80%8B",
    "/gw/api/repo/clone;jsessionid=1",
    "/gw/api/repo/clone%3Fx",
    "/gw/api/repo/clone.json",
    "/gw/api/repo.json/clone",
    "/gw/api/%EF%BD%92epo/clone",
  ])("%s is refused (400) or meets the PQC rule of /api/repo/clone, and never reaches the origin", async (path) => {
    const before = arrivals.length;
    const response = await rawRequest("POST", path);
    const { error } = JSON.parse(response.body);
    expect([`${response.status} ${error.code}`]).toEqual([expect.stringMatching(/^(400 invalid_request|401 pqc_required)$/)]);
    if (response.status === 401) expect(error.message).toBe("This route requires a PQC token for production/clone.");
    expect(arrivals.length).toBe(before);
  });

  it("prefixes match whole segments: /api/repository is the public catch-all's, /api/repo is not", async () => {
    passed(await through("GET", "/api/repository"));
    refused(await through("GET", "/api/repo"), 401, "unauthorized");
  });
});

describe("gateway against wrangler dev: routing and origin failures", () => {
  it("404 for an unrouted path, 405 with Allow for a method the route does not take", async () => {
    refused(await through("GET", "/elsewhere"), 404, "not_found");
    const wrongMethod = await through("GET", "/api/repo/clone");
    refused(wrongMethod, 405, "method_not_allowed");
    expect(wrongMethod.headers.get("Allow")).toBe("POST");
  });

  it("a route's rate limit answers 429 with Retry-After past its limit", async () => {
    // One client address throughout: a public route's limit counts per address.
    const from = { "CF-Connecting-IP": randomIp() };
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await through("GET", `/api/limited/${i}`, { headers: from })).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const limited = await through("GET", "/api/limited/4", { headers: from });
    expect(Number(limited.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect((await through("GET", "/api/limited/5", { headers: { "CF-Connecting-IP": randomIp() } })).status).toBe(200);
  });

  it("an origin 5xx is a 502 without the origin's stack trace", async () => {
    const result = await through("GET", "/api/crash");
    expect(result.status).toBe(502);
    expect(result.body.error.code).toBe("bad_gateway");
    expect(JSON.stringify(result.body)).not.toContain("billing.js");
    expect(result.arrived?.claims?.req).toBe("public"); // it did reach the origin, which failed
  });

  it("an unreachable origin is 502 and a slow one 504, in our envelope", async () => {
    const unreachable = await through("GET", "/api/unreachable");
    expect(unreachable.status).toBe(502);
    expect(unreachable.body.error).toMatchObject({ code: "bad_gateway", message: "The origin could not be reached." });
    const started = Date.now();
    const slow = await through("GET", "/api/slow");
    expect(slow.status).toBe(504);
    expect(slow.body.error.code).toBe("gateway_timeout");
    expect(Date.now() - started).toBeLessThan(2900);
  });

  it("refusals are in the audit trail as gateway.denied", async () => {
    const account = await register("gw-audited");
    refused(await through("GET", "/api/reports/q3", { token: account.accessToken }), 403, "forbidden");
    const admin = await request("POST", "/api/auth/login", { body: inject("bootstrapAdmin") });
    let events: Array<{ type: string; details: Record<string, unknown> }> = [];
    for (let attempt = 0; attempt < 20 && events.length === 0; attempt++) {
      const page = await request("GET", `/api/audit/events?subject=${account.userId}`, { token: admin.body.accessToken });
      events = page.body.events.filter((event: { type: string }) => event.type === "gateway.denied");
      if (events.length === 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(events).toHaveLength(1);
    expect(events[0]!.details).toEqual({ route: "/api/reports", required: "jwt:operator", code: "forbidden", method: "GET" });
  });
});

/**
 * The path an origin that folds spellings would serve: IIS and Windows (case, trailing dots and
 * spaces, `::$DATA` streams), Spring (trimmed tokens, `;jsessionid`, `.json` suffixes) and NFKC.
 * Independent of the gateway's code, so it can tell when the gateway's reading fell short.
 */
function foldedByOrigin(url: string): string[] {
  const path = url.split("?")[0]!;
  return path
    .split("/")
    .filter(Boolean)
    .map((segment) => {
      let decoded = segment;
      try {
        decoded = decodeURIComponent(segment);
      } catch {}
      return decoded
        .normalize("NFKC")
        .toLowerCase()
        .replace(/\p{Default_Ignorable_Code_Point}/gu, "")
        .replace(/[;:].*$/, "")
        .replace(/[\s.]+$/u, "")
        .trim()
        .replace(/\..*$/, "");
    });
}

describe("gateway against wrangler dev: what the origin saw, read the way origins fold paths", () => {
  it("no request reached the origin under a weaker requirement than the route its folded path belongs to", () => {
    const routes = gatewayRoutesFor(originUrl).map((route) => ({ ...route, keys: route.prefix.split("/").filter(Boolean) }));
    const checked = arrivals.filter((arrival) => arrival.claims);
    expect(checked.length).toBeGreaterThan(10);
    for (const arrival of checked) {
      const folded = foldedByOrigin(arrival.url);
      const owner = routes
        .filter((route) => route.keys.every((key, index) => folded[index] === key))
        .sort((a, b) => b.keys.length - a.keys.length)[0]!;
      expect({ url: arrival.url, req: arrival.claims!.req }).toEqual({
        url: arrival.url,
        req: describeRequirement(owner.require as Requirement),
      });
    }
  });
});
