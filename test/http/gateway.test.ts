import { env } from "cloudflare:workers";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { type AssertionClaims, createAssertionVerifier } from "../../src/clients/origin/verify-assertion";
import type { Bindings } from "../../src/env";
import { registerUser, type SignedIn, updateUser, userWithRole } from "../support/accounts";
import { auditEvents } from "../support/audit";
import { BASE_URL } from "../support/config";
import { SESSION_COOKIE } from "../support/cookies";
import type { RequestOptions } from "../support/http";
import { clientCertificate, randomFingerprint, requestPqcToken, x5tS256 } from "../support/pqc";
import { appWith, request } from "../support/worker";

/**
 * The gateway inside workerd: the real app with a route table of its own, every policy kind, and
 * a stand-in origin (the runtime's `fetch`, replaced per test) that records what reached it and
 * verifies the assertion with the origin helper from the JWKS alone. The real network path (a Node
 * origin behind `wrangler dev`) is test/e2e/gateway.test.ts; mTLS can only be presented here,
 * through `request.cf.tlsClientAuth`.
 */

const ORIGIN = "https://origin.gateway.test";
const JWKS_URL = `${BASE_URL}/.well-known/jwks.json`;

const ROUTES = [
  { prefix: "/api", methods: ["GET", "POST"], origin: ORIGIN, require: { kind: "public" } },
  { prefix: "/api/reports", methods: ["GET"], origin: ORIGIN, require: { kind: "jwt", minRole: "operator" } },
  { prefix: "/api/sync", methods: ["GET"], origin: ORIGIN, require: { kind: "api_key", scopes: ["sync:read"] } },
  {
    prefix: "/api/sync/privileged-operation",
    methods: ["POST"],
    origin: ORIGIN,
    require: { kind: "pqc", service: "headyme", operation: "sync" },
  },
  { prefix: "/api/repo", methods: ["GET"], origin: ORIGIN, require: { kind: "jwt", minRole: "user" } },
  { prefix: "/api/repo/clone", methods: ["POST"], origin: ORIGIN, require: { kind: "pqc", service: "production", operation: "clone" } },
  { prefix: "/api/repo/deploy", methods: ["POST"], origin: ORIGIN, require: { kind: "pqc", service: "production", operation: "deploy" } },
  { prefix: "/devices", methods: ["GET"], origin: ORIGIN, require: { kind: "mtls" } },
  { prefix: "/limited", methods: ["GET"], origin: ORIGIN, require: { kind: "public" }, rateLimit: { limit: 2, windowSeconds: 60 } },
  { prefix: "/passthrough", methods: ["GET"], origin: ORIGIN, require: { kind: "jwt", minRole: "user" }, forwardCredentials: true },
  { prefix: "/slow", methods: ["GET"], origin: ORIGIN, require: { kind: "public" }, timeoutMs: 200 },
];

const gateway = appWith({ ...env, GATEWAY_ROUTES: JSON.stringify(ROUTES) } as Bindings);
const via = (method: string, path: string, options: RequestOptions = {}) => request(method, `/gw${path}`, { ...options, handler: gateway });

/** What the stand-in origin saw of one request, and what the helper made of its assertion. */
interface Arrival {
  method: string;
  url: string;
  headers: Record<string, string>;
  claims?: AssertionClaims;
  refused?: string;
}

let arrivals: Arrival[] = [];
/** How the origin answers; the default echoes what arrived. */
let answer: (arrival: Arrival, request: Request) => Response | Promise<Response>;
const echo = (arrival: Arrival) => Response.json(arrival, { headers: { "X-Origin": "yes" } });

beforeEach(() => {
  arrivals = [];
  answer = echo;
  const origin = createAssertionVerifier({ jwksUrl: JWKS_URL, issuer: BASE_URL, audience: ORIGIN });
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input as RequestInfo, init);
    if (request.url === JWKS_URL) return gateway(request);
    if (new URL(request.url).origin !== ORIGIN) throw new TypeError(`unexpected fetch to ${request.url}`);
    const arrival: Arrival = { method: request.method, url: request.url, headers: Object.fromEntries(request.headers) };
    try {
      arrival.claims = await origin.verify(request);
    } catch (error) {
      arrival.refused = String(error);
    }
    arrivals.push(arrival);
    return answer(arrival, request);
  });
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** The request reached the origin, whose helper verified the assertion; returns its claims. */
function forwarded(response: { status: number; text: string; headers: Headers }): AssertionClaims {
  expect(response.status, response.text).toBe(200);
  expect(response.headers.get("X-Origin")).toBe("yes");
  expect(arrivals).toHaveLength(1);
  const [arrival] = arrivals as [Arrival];
  expect(arrival.refused).toBeUndefined();
  return arrival.claims!;
}

function refused(response: { status: number; body: any }, status: number, code: string): string {
  expect(response.status).toBe(status);
  expect(response.body.error.code).toBe(code);
  expect(arrivals).toEqual([]);
  return response.body.error.message;
}

let user: SignedIn;
let operator: SignedIn;
beforeAll(async () => {
  [user, operator] = await Promise.all([registerUser(), userWithRole("operator")]);
});

async function pqcToken(
  account: SignedIn,
  service: string,
  operation: string,
  options: { reference?: boolean; cf?: Record<string, unknown> } = {},
) {
  const issued = await requestPqcToken(
    { service, operation, reference: options.reference },
    { token: account.accessToken, cf: options.cf },
  );
  expect(issued.status, issued.text).toBe(200);
  return (options.reference ? issued.body.reference : issued.body.pqcToken) as string;
}

async function createKey(owner: SignedIn, scopes: string[]): Promise<{ id: string; key: string }> {
  const created = await request("POST", "/api/auth/api-keys", { token: owner.accessToken, body: { description: "gateway test", scopes } });
  expect(created.status, created.text).toBe(201);
  return { id: created.body.id, key: created.body.key };
}

describe("gateway: public", () => {
  it("forwards to origin + the path behind /gw, with an assertion that says nothing was checked", async () => {
    const response = await via("GET", "/api/status?verbose=1");
    const claims = forwarded(response);
    expect(arrivals[0]!.url).toBe(`${ORIGIN}/api/status?verbose=1`);
    expect(claims).toMatchObject({ aud: ORIGIN, cred: "none", req: "public", htm: "GET", htu: `${ORIGIN}/api/status` });
    expect(claims.sub).toBeUndefined();
    expect(claims.jti).toBe(response.headers.get("X-Request-Id"));
  });
});

describe("gateway: jwt with a minimum role", () => {
  it("no credential: 401 naming the role", async () => {
    const response = await via("GET", "/api/reports/q3");
    expect(refused(response, 401, "unauthorized")).toBe(
      "This route requires a signed-in user (access token or session) with the operator role or higher.",
    );
    expect(response.headers.get("WWW-Authenticate")).toBe('Bearer realm="heady", scope="jwt:operator"');
  });

  it("a user below the role: 403 naming it", async () => {
    const response = await via("GET", "/api/reports/q3", { token: user.accessToken });
    expect(refused(response, 403, "forbidden")).toBe("This route requires the operator role (level 3) or higher; you are user.");
    expect(response.headers.get("WWW-Authenticate")).toBe('Bearer error="insufficient_scope", scope="jwt:operator"');
  });

  it("an operator's access token, or session cookie, passes", async () => {
    expect(forwarded(await via("GET", "/api/reports/q3", { token: operator.accessToken }))).toMatchObject({
      sub: operator.userId,
      role: "operator",
      cred: "access_token",
      req: "jwt:operator",
    });
    arrivals = [];
    const byCookie = await via("GET", "/api/reports/q3", { headers: { Cookie: `${SESSION_COOKIE}=${operator.cookie}` } });
    expect(forwarded(byCookie)).toMatchObject({ sub: operator.userId, cred: "session_cookie" });
  });

  it("other kinds of credential do not stand in for a signed-in user: 401", async () => {
    const { key } = await createKey(operator, ["sync:read"]);
    refused(await via("GET", "/api/reports/q3", { apiKey: key }), 401, "unauthorized");
    refused(await via("GET", "/api/repo/list", { pqc: await pqcToken(user, "headyme", "sync") }), 401, "unauthorized");
  });

  it("a demoted operator's token, issued before the demotion, is refused on the next request", async () => {
    const demoted = await userWithRole("operator");
    forwarded(await via("GET", "/api/reports/q3", { token: demoted.accessToken }));
    arrivals = [];
    await updateUser(demoted.userId, { role: "user" });
    expect(refused(await via("GET", "/api/reports/q3", { token: demoted.accessToken }), 403, "forbidden")).toContain("you are user");
  });

  it("an ended session is refused on the next request", async () => {
    const account = await registerUser();
    forwarded(await via("GET", "/api/repo/list", { token: account.accessToken }));
    arrivals = [];
    expect((await request("POST", "/api/auth/logout", { token: account.accessToken })).status).toBe(204);
    refused(await via("GET", "/api/repo/list", { token: account.accessToken }), 401, "invalid_token");
  });
});

describe("gateway: api_key with scopes", () => {
  it("no key: 401 naming the scope; a key without it: 403 naming what it lacks", async () => {
    const none = await via("GET", "/api/sync/items");
    expect(refused(none, 401, "unauthorized")).toBe("This route requires an API key (X-API-Key) with scope sync:read.");
    const { key } = await createKey(user, ["pqc"]);
    const lacking = await via("GET", "/api/sync/items", { apiKey: key });
    expect(refused(lacking, 403, "forbidden")).toBe("This route requires an API key with scope sync:read; this key lacks sync:read.");
  });

  it("a key with the scope passes; an access token is not an API key", async () => {
    const { key } = await createKey(user, ["sync:read", "pqc"]);
    expect(forwarded(await via("GET", "/api/sync/items", { apiKey: key }))).toMatchObject({
      sub: user.userId,
      cred: "api_key",
      req: "api_key:sync:read",
      scopes: ["sync:read", "pqc"],
    });
    arrivals = [];
    refused(await via("GET", "/api/sync/items", { token: user.accessToken }), 401, "unauthorized");
  });

  it("a revoked key is refused on the very next request", async () => {
    const { id, key } = await createKey(user, ["sync:read"]);
    forwarded(await via("GET", "/api/sync/items", { apiKey: key }));
    arrivals = [];
    expect((await request("DELETE", `/api/auth/api-keys/${id}`, { token: user.accessToken })).status).toBe(204);
    refused(await via("GET", "/api/sync/items", { apiKey: key }), 401, "invalid_token");
  });
});

describe("gateway: pqc with service and operation (requirePQC's answers)", () => {
  it("no PQC credential: 401 pqc_required naming headyme/sync", async () => {
    const response = await via("POST", "/api/sync/privileged-operation", { token: user.accessToken });
    expect(refused(response, 401, "pqc_required")).toBe("This route requires a PQC token for headyme/sync.");
    expect(response.headers.get("WWW-Authenticate")).toBe('Bearer realm="heady", scope="pqc:headyme/sync"');
  });

  it("a token for another operation: 403 pqc_scope_mismatch naming both", async () => {
    const response = await via("POST", "/api/sync/privileged-operation", { pqc: await pqcToken(user, "headyme", "privileged-operation") });
    expect(refused(response, 403, "pqc_scope_mismatch")).toBe(
      "This route requires a PQC token for headyme/sync; the token is for headyme/privileged-operation.",
    );
    const deploy = await via("POST", "/api/repo/clone", { pqc: await pqcToken(operator, "production", "deploy") });
    expect(refused(deploy, 403, "pqc_scope_mismatch")).toContain("production/clone");
  });

  it("a forged token: 401 invalid_token", async () => {
    const token = await pqcToken(user, "headyme", "sync");
    const forged = `${token.slice(0, -8)}AAAAAAAA`;
    refused(await via("POST", "/api/sync/privileged-operation", { pqc: forged }), 401, "invalid_token");
  });

  it("the right token passes, in X-Heady-PQC-Token or as a bearer, and so does a reference", async () => {
    const token = await pqcToken(operator, "production", "clone");
    for (const options of [{ pqc: token }, { token }, { pqc: await pqcToken(operator, "production", "clone", { reference: true }) }]) {
      arrivals = [];
      expect(forwarded(await via("POST", "/api/repo/clone", options))).toMatchObject({
        sub: operator.userId,
        role: "operator",
        cred: "pqc_token",
        req: "pqc:production/clone",
        service: "production",
        operation: "clone",
        permissions: ["repo:read"],
      });
    }
  });

  it("a repeated token's ML-DSA signature is checked once per isolate, then taken from the cache", async () => {
    const token = await pqcToken(operator, "production", "clone");
    const verify = vi.spyOn(crypto.subtle, "verify");
    const mlDsaChecks = () => verify.mock.calls.filter(([algorithm]) => (algorithm as { name?: string }).name === "ML-DSA-65").length;
    for (let i = 0; i < 3; i++) {
      arrivals = [];
      forwarded(await via("POST", "/api/repo/clone", { pqc: token }));
    }
    expect(mlDsaChecks()).toBe(1);
    arrivals = [];
    // The cache holds what the token is, not what it may do: on another PQC route the cached principal
    // is refused for its scope, with no second signature check.
    refused(await via("POST", "/api/repo/deploy", { pqc: token }), 403, "pqc_scope_mismatch");
    expect(mlDsaChecks()).toBe(1);
  });

  it("a token bound to a certificate passes only with that certificate, even once it is cached", async () => {
    const fingerprint = randomFingerprint();
    const bound = await pqcToken(operator, "production", "deploy", { cf: clientCertificate(fingerprint) });
    forwarded(await via("POST", "/api/repo/deploy", { pqc: bound, cf: clientCertificate(fingerprint) }));
    arrivals = [];
    forwarded(await via("POST", "/api/repo/deploy", { pqc: bound, cf: clientCertificate(fingerprint) }));
    arrivals = [];
    refused(await via("POST", "/api/repo/deploy", { pqc: bound, cf: clientCertificate(randomFingerprint()) }), 401, "invalid_token");
    refused(await via("POST", "/api/repo/deploy", { pqc: bound }), 401, "invalid_token");
  });
});

describe("gateway: mtls (only workerd can present a client certificate)", () => {
  it("no certificate, or one the edge did not verify: 403 naming the requirement", async () => {
    const message = refused(await via("GET", "/devices/7"), 403, "forbidden");
    expect(message).toBe("This route requires a client certificate verified at the edge (mTLS); this connection presented none.");
    refused(
      await via("GET", "/devices/7", { cf: clientCertificate(randomFingerprint(), "FAILED:self signed certificate") }),
      403,
      "forbidden",
    );
  });

  it("a verified certificate passes; the assertion names it (sub and cnf)", async () => {
    const fingerprint = randomFingerprint();
    const claims = forwarded(await via("GET", "/devices/7", { cf: clientCertificate(fingerprint) }));
    const thumbprint = x5tS256(fingerprint);
    expect(claims).toMatchObject({ sub: `cert:${thumbprint}`, cred: "mtls", req: "mtls", cnf: { "x5t#S256": thumbprint } });
    expect(claims.role).toBeUndefined();
  });
});

describe("gateway: what reaches the origin", () => {
  const SPOOFED = {
    "X-Heady-Assertion": "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.",
    "X-Heady-User": "admin",
    "X-Heady-Role": "admin",
    "x-heady-verified": "true",
    "X-Forwarded-For": "10.0.0.1",
    "X-Forwarded-User": "admin",
    Forwarded: "for=10.0.0.1",
    "X-Custom": "kept",
  };

  it("no client X-Heady-*, X-Forwarded-* or Forwarded; only the gateway's own, verifiable assertion", async () => {
    const claims = forwarded(await via("GET", "/api/reports/q3", { token: operator.accessToken, headers: SPOOFED }));
    const { headers } = arrivals[0]!;
    expect(Object.keys(headers).filter((name) => name.startsWith("x-heady-"))).toEqual(["x-heady-assertion"]);
    expect(headers["x-heady-assertion"]).not.toBe(SPOOFED["X-Heady-Assertion"]);
    expect(Object.keys(headers).filter((name) => name.startsWith("x-forwarded-") || name === "forwarded")).toEqual([]);
    expect(headers["x-custom"]).toBe("kept");
    expect(claims.sub).toBe(operator.userId);
  });

  it("no credentials by default: neither the token, the PQC token nor the session cookie; other cookies stay", async () => {
    const token = await pqcToken(operator, "production", "clone");
    forwarded(
      await via("POST", "/api/repo/clone", {
        pqc: token,
        headers: { Authorization: `Bearer ${operator.accessToken}`, Cookie: `theme=dark; ${SESSION_COOKIE}=${operator.cookie}` },
      }),
    );
    const { headers } = arrivals[0]!;
    expect(headers.authorization).toBeUndefined();
    expect(headers["x-heady-pqc-token"]).toBeUndefined();
    expect(headers.cookie).toBe("theme=dark");
  });

  it("a route with forwardCredentials passes them on", async () => {
    forwarded(await via("GET", "/passthrough/me", { token: user.accessToken }));
    expect(arrivals[0]!.headers.authorization).toBe(`Bearer ${user.accessToken}`);
  });

  it("the origin may not answer in the identity layer's name, nor replace the request id", async () => {
    answer = () => {
      const headers = new Headers({
        "X-Heady-Receipt": "forged",
        "Content-Type": "text/plain",
        "X-Request-Id": "origin-id",
        Vary: "Accept-Encoding",
      });
      headers.append("Set-Cookie", `${SESSION_COOKIE}=planted; Path=/; Secure; HttpOnly`);
      headers.append("Set-Cookie", "origin_pref=1");
      return new Response("ok", { headers });
    };
    const response = await via("GET", "/api/anything");
    expect(response.text).toBe("ok");
    expect(response.headers.has("X-Heady-Receipt")).toBe(false);
    expect(response.headers.getSetCookie()).toEqual(["origin_pref=1"]);
    // The gateway's request id (the assertion's jti) wins; Vary keeps the origin's list and CORS's.
    expect(response.headers.get("X-Request-Id")).toBe(arrivals[0]!.claims!.jti);
    expect(response.headers.get("Vary")?.split(/,\s*/).sort()).toEqual(["Accept-Encoding", "Origin"]);
  });
});

describe("gateway: paths that could reach another rule's space are refused before matching", () => {
  it.each([
    ["/api/public/..%2frepo/clone", "encoded slashes"],
    ["/api/public/..%2Frepo/clone", "encoded slashes"],
    ["/api/public/..%5crepo/clone", "encoded slashes and backslashes"],
    ["/api//repo/clone", "empty path segments"],
    ["/api/repo;/clone", "path parameters"],
    ["/api/..;/repo/clone", "path parameters"],
    ["/api/%252e%252e/repo/clone", "double percent-encoding"],
    ["/api/x%2e/repo", "percent-encoded dots"],
    ["/api/%EF%BC%8E%EF%BC%8E/repo/clone", "dot segments"],
  ])("%s: 400", async (path, reason) => {
    const response = await via("POST", path);
    expect(refused(response, 400, "invalid_request")).toContain(reason);
  });

  it("case and percent-encoding land on the stricter rule, not on the public /api", async () => {
    for (const path of ["/API/REPO/CLONE", "/api/%72epo/clone", "/api/Repo/Clone/"]) {
      refused(await via("POST", path), 401, "pqc_required");
    }
  });

  /**
   * Spellings that IIS, Spring, Tomcat or a Unicode-folding origin would serve as a protected path.
   * Each is either refused (400) or meets the protected route's own rule, never the public `/api`
   * or a shorter, weaker prefix; nothing reaches the origin without the credential.
   */
  const POST_CLONE: Array<[string, "refused" | "protected"]> = [
    ["/api/repo./clone", "refused"], // IIS drops trailing dots
    ["/api/repo%20/clone", "refused"], // and trailing spaces
    ["/api/repo/clone.", "refused"],
    ["/api/repo/clone%20", "refused"],
    ["/api/repo/%20clone", "refused"], // Spring trims tokens
    ["/api/repo/clone%C2%A0", "refused"], // no-break space folds to a space
    ["/api/repo/clone::$DATA", "refused"], // NTFS main data stream
    ["/api/repo:$i30:$INDEX_ALLOCATION/clone", "refused"],
    ["/api/REPO~1/clone", "refused"], // 8.3 short name
    ["/api/repo/clone%E2%80%8B", "refused"], // zero-width space
    ["/api/re%E2%80%8Cpo/clone", "refused"], // zero-width non-joiner
    ["/api/repo/clone%C2%AD", "refused"], // soft hyphen
    ["/api/repo/clone%3Fx", "refused"], // a proxy that decodes, then splits off the query
    ["/api/repo%EF%BC%9B/clone", "refused"], // full-width ; folds into a path parameter
    ["/api/repo/clone.json", "protected"], // Spring's suffix pattern
    ["/api/repo/CLONE.XML", "protected"],
    ["/api/repo.json/clone", "protected"],
    ["/api/%EF%BD%92epo/clone", "protected"], // full-width ｒ
  ];

  it.each(POST_CLONE)("POST %s is %s, never forwarded under the public /api", async (path, outcome) => {
    const response = await via("POST", path);
    if (outcome === "refused") expect(refused(response, 400, "invalid_request")).toMatch(/^Refused path: /);
    else expect(refused(response, 401, "pqc_required")).toBe("This route requires a PQC token for production/clone.");
  });

  it.each([
    ["/api/reports.json", "protected"],
    ["/api/reports.csv/q3", "protected"],
    ["/api/reports./q3", "refused"],
    ["/api/reports%20", "refused"],
    ["/api/reports::$DATA", "refused"],
    ["/api/REPORT~1/q3", "refused"],
    ["/api/rep%E2%80%8Borts/q3", "refused"],
    ["/api/reports%EF%BC%8E", "refused"], // full-width ．
    ["/api/%EF%BD%92eports/q3", "protected"],
  ])("GET %s is %s, never forwarded under the public /api", async (path, outcome) => {
    const response = await via("GET", path);
    if (outcome === "refused") expect(refused(response, 400, "invalid_request")).toMatch(/^Refused path: /);
    else expect(refused(response, 401, "unauthorized")).toContain("operator role");
  });

  it("the mount itself must be spelt literally", async () => {
    // Hono routes on the decoded path, so this reaches the gateway, which refuses the disguised mount.
    const response = await request("GET", "/%67w/api/status", { handler: gateway });
    expect(refused(response, 400, "invalid_request")).toBe("The gateway path is not in canonical form.");
  });

  it("prefixes match on whole segments: /api/repo does not protect /api/repository", async () => {
    forwarded(await via("GET", "/api/repository"));
    arrivals = [];
    refused(await via("GET", "/api/repo"), 401, "unauthorized");
  });
});

describe("gateway: routing answers", () => {
  it("an unrouted path is 404; a method the route does not allow is 405 with Allow", async () => {
    refused(await via("GET", "/nothing/here"), 404, "not_found");
    const response = await via("DELETE", "/api/repo/clone");
    expect(refused(response, 405, "method_not_allowed")).toBe("/api/repo/clone allows POST only.");
    expect(response.headers.get("Allow")).toBe("POST");
  });

  it("HEAD is allowed wherever GET is, and forwarded under the same requirement", async () => {
    // A HEAD answer has no body, so only the status and the headers tell.
    const anonymous = await via("HEAD", "/api/repo/list");
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("WWW-Authenticate")).toContain('scope="jwt:user"');
    expect(arrivals).toEqual([]);
    const response = await via("HEAD", "/api/repo/list", { token: user.accessToken });
    expect(response.status).toBe(200);
    expect(response.text).toBe("");
    expect(arrivals.map(({ method, claims }) => [method, claims?.htm, claims?.req])).toEqual([["HEAD", "HEAD", "jwt:user"]]);
    arrivals = [];
    const notGet = await via("HEAD", "/api/repo/clone");
    expect(notGet.status).toBe(405);
    expect(notGet.headers.get("Allow")).toBe("POST");
    const onGetRoute = await via("DELETE", "/api/repo/list");
    expect(refused(onGetRoute, 405, "method_not_allowed")).toBe("/api/repo allows GET, HEAD only.");
    expect(onGetRoute.headers.get("Allow")).toBe("GET, HEAD");
  });

  it("the identity API is not behind the mount: /api/auth/me is still the Worker's own", async () => {
    const response = await request("GET", "/api/auth/me", { token: user.accessToken, handler: gateway });
    expect(response.status).toBe(200);
    expect(response.body.email).toBe(user.email);
    expect(arrivals).toEqual([]);
  });

  it("is documented in /openapi.json under /gw/{path}", async () => {
    const document = await request("GET", "/openapi.json", { handler: gateway });
    expect(document.status).toBe(200);
    const entry = document.body.paths["/gw/{path}"];
    expect(Object.keys(entry).sort()).toEqual(["delete", "get", "patch", "post", "put"]);
    expect(Object.keys(entry.post.responses)).toEqual(expect.arrayContaining(["200", "401", "403", "405", "502", "504"]));
  });

  it("a route's rate limit gives 429 with Retry-After past its limit", async () => {
    const ip = "10.250.0.1";
    expect((await via("GET", "/limited/a", { ip })).status).toBe(200);
    expect((await via("GET", "/limited/b", { ip })).status).toBe(200);
    arrivals = [];
    const limited = await via("GET", "/limited/c", { ip });
    refused(limited, 429, "rate_limited");
    expect(Number(limited.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect((await via("GET", "/limited/c", { ip: "10.250.0.2" })).status).toBe(200);
  });

  it("an anonymous caller's rate limit counts IPv6 addresses by /64", async () => {
    const [a, b] = crypto.getRandomValues(new Uint16Array(2));
    const prefix = `2001:db8:${a!.toString(16)}:${b!.toString(16)}`;
    expect((await via("GET", "/limited/a", { ip: `${prefix}::1` })).status).toBe(200);
    expect((await via("GET", "/limited/b", { ip: `${prefix}:dead:beef:0:2` })).status).toBe(200);
    arrivals = [];
    refused(await via("GET", "/limited/c", { ip: `${prefix.toUpperCase()}:ffff::3` }), 429, "rate_limited");
  });
});

describe("gateway: when the origin fails", () => {
  beforeEach(() => {
    vi.spyOn(console, "error").mockImplementation(() => {});
  });

  it("an origin 5xx is our 502, never the origin's error page", async () => {
    answer = () => new Response("Error: boom\n    at handler (/srv/origin/secret-module.js:12:7)", { status: 500 });
    const response = await via("GET", "/api/crash");
    expect(response.status).toBe(502);
    expect(response.body.error.code).toBe("bad_gateway");
    expect(response.text).not.toContain("secret-module");
  });

  it("an origin 4xx passes through as the origin's answer", async () => {
    answer = () => Response.json({ origin: "no such item" }, { status: 404 });
    const response = await via("GET", "/api/items/9");
    expect(response.status).toBe(404);
    expect(response.body).toEqual({ origin: "no such item" });
  });

  it("an unreachable origin is 502 and a slow one 504, with no internal text", async () => {
    answer = () => Promise.reject(new TypeError("connect ECONNREFUSED 10.1.2.3:443"));
    const unreachable = await via("GET", "/api/down");
    expect(unreachable.status).toBe(502);
    expect(unreachable.body.error).toMatchObject({ code: "bad_gateway", message: "The origin could not be reached." });
    expect(unreachable.text).not.toContain("10.1.2.3");

    answer = (_, request) => new Promise((_, reject) => request.signal.addEventListener("abort", () => reject(new Error("aborted"))));
    const slow = await via("GET", "/slow/report");
    expect(slow.status).toBe(504);
    expect(slow.body.error.code).toBe("gateway_timeout");
  });
});

describe("gateway: refusals are audited", () => {
  it("records gateway.denied with the route, the requirement and the answer", async () => {
    const account = await registerUser();
    refused(await via("GET", "/api/reports/q3", { token: account.accessToken }), 403, "forbidden");
    const [event] = await auditEvents({ subject: account.userId, type: "gateway.denied" });
    expect(event?.details).toEqual({ route: "/api/reports", required: "jwt:operator", code: "forbidden", method: "GET" });
  });
});
