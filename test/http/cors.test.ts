import { describe, expect, it } from "vitest";
import { findUser, registerUser } from "../support/accounts";
import { auditEvents } from "../support/audit";
import { ALLOWED_ORIGIN, BASE_URL, OTHER_ALLOWED_ORIGIN } from "../support/config";
import { sessionCookies } from "../support/cookies";
import { randomIp, strongPassword, uniqueEmail } from "../support/fresh";
import { request } from "../support/worker";

const preflight = (origin: string, method = "POST", path = "/api/auth/login") =>
  request("OPTIONS", path, {
    headers: { Origin: origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": "content-type, authorization" },
  });

const varyOf = (headers: Headers) => (headers.get("Vary") ?? "").split(",").map((value) => value.trim().toLowerCase());

function expectForeign(response: { status: number; body: any; headers: Headers }) {
  expect(response.status).toBe(403);
  expect(response.body.error.code).toBe("origin_not_allowed");
  expect(response.headers.get("Access-Control-Allow-Origin")).toBeNull();
  expect(response.headers.get("Access-Control-Allow-Credentials")).toBeNull();
  expect(varyOf(response.headers)).toContain("origin");
}

const allowedHost = new URL(ALLOWED_ORIGIN).host;

const FOREIGN_ORIGINS: [string, string][] = [
  ["a foreign site", "https://evil.test"],
  ["the string null (sandboxed iframes, file: pages)", "null"],
  ["a suffix trick", `${ALLOWED_ORIGIN}.evil.com`],
  ["a label-prefix trick", `https://evil${allowedHost}`],
  ["a prefix of an allowed origin", ALLOWED_ORIGIN.slice(0, -1)],
  ["a subdomain of an allowed origin", `https://x.${allowedHost}`],
  ["the parent domain", `https://${allowedHost.split(".").slice(1).join(".")}`],
  ["plain http", `http://${allowedHost}`],
  ["another port", `https://${allowedHost}:8443`],
  ["a trailing slash", `${ALLOWED_ORIGIN}/`],
  ["a trailing dot", `${ALLOWED_ORIGIN}.`],
  ["a userinfo trick", `https://${allowedHost}@evil.test`],
  ["the whole allowlist as one value", `${ALLOWED_ORIGIN},${OTHER_ALLOWED_ORIGIN}`],
  ["a wildcard", "*"],
];

describe("CORS: allowed origins", () => {
  it.each([ALLOWED_ORIGIN, OTHER_ALLOWED_ORIGIN])("a preflight from %s echoes exactly that origin, never *", async (origin) => {
    const response = await preflight(origin);
    expect(response.status).toBe(204);
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe(origin);
    expect(varyOf(response.headers)).toContain("origin");
    expect(response.headers.get("Access-Control-Allow-Methods")?.split(/,\s*/)).toEqual(expect.arrayContaining(["GET", "POST"]));
    expect(response.headers.get("Access-Control-Allow-Headers")?.toLowerCase().split(/,\s*/)).toEqual(
      expect.arrayContaining(["authorization", "content-type"]),
    );
    expect(Number(response.headers.get("Access-Control-Max-Age"))).toBeGreaterThan(0);
    expect(response.text).toBe("");
  });

  it("an actual request from an allowed origin gets the echo and exposed headers", async () => {
    const response = await request("POST", "/api/auth/register", {
      headers: { Origin: ALLOWED_ORIGIN },
      body: { email: uniqueEmail(), password: strongPassword() },
    });
    expect(response.status).toBe(201);
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe(ALLOWED_ORIGIN);
    expect(response.headers.get("Access-Control-Expose-Headers")?.split(/,\s*/)).toEqual(
      expect.arrayContaining(["X-Request-Id", "Retry-After"]),
    );
    expect(varyOf(response.headers)).toContain("origin");
  });

  it("error responses to an allowed origin carry CORS headers too, so the page can read them", async () => {
    const response = await request("GET", "/api/auth/me", { headers: { Origin: OTHER_ALLOWED_ORIGIN } });
    expect(response.status).toBe(401);
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe(OTHER_ALLOWED_ORIGIN);
    expect(response.headers.get("Access-Control-Expose-Headers")).toContain("X-Request-Id");
  });

  it("the Worker's own origin is allowed", async () => {
    const response = await request("GET", "/health", { headers: { Origin: BASE_URL } });
    expect(response.status).toBe(200);
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe(BASE_URL);
  });

  it("a request without Origin (server to server) passes with no CORS grant", async () => {
    const account = await registerUser();
    const response = await request("GET", "/api/auth/me", { token: account.accessToken });
    expect(response.status).toBe(200);
    expect(response.headers.get("Access-Control-Allow-Origin")).toBeNull();
    expect(response.headers.get("Access-Control-Allow-Credentials")).toBeNull();
    expect(varyOf(response.headers)).toContain("origin");
  });

  it("an OPTIONS request with an allowed Origin but no Access-Control-Request-Method is not a preflight", async () => {
    const response = await request("OPTIONS", "/api/auth/login", { headers: { Origin: ALLOWED_ORIGIN } });
    // A plain OPTIONS, answered with the route's methods (RFC 9110), not with a CORS grant.
    expect(response.status).toBe(204);
    expect(response.headers.get("Allow")).toBe("POST, OPTIONS");
    expect(response.headers.get("Access-Control-Allow-Methods")).toBeNull();
  });
});

describe("CORS: a sibling origin never gets credentials", () => {
  // The cookie is SameSite=Strict, which lets same-site siblings' requests carry it: with
  // Allow-Credentials, a script there could read the person's keys, sessions and memory.
  it.each([ALLOWED_ORIGIN, OTHER_ALLOWED_ORIGIN])("a preflight from %s allows the origin, without credentials", async (origin) => {
    const response = await preflight(origin, "GET", "/api/auth/api-keys");
    expect(response.status).toBe(204);
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe(origin);
    expect(response.headers.get("Access-Control-Allow-Credentials")).toBeNull();
  });

  it.each([["/api/auth/me"], ["/api/auth/api-keys"], ["/api/auth/sessions"], ["/api/auth/mfa"], ["/api/memory"]])(
    "a GET of %s with the cookie from a sibling origin is readable by no script there",
    async (path) => {
      const account = await registerUser();
      const response = await request("GET", path, { cookie: account.cookie, headers: { Origin: ALLOWED_ORIGIN } });
      expect(response.headers.get("Access-Control-Allow-Origin")).toBe(ALLOWED_ORIGIN);
      expect(response.headers.get("Access-Control-Allow-Credentials")).toBeNull();
    },
  );

  it("a bearer-token call from a sibling (the widget's way) is answered with CORS, without credentials", async () => {
    const account = await registerUser();
    const response = await request("GET", "/api/auth/me", { token: account.accessToken, headers: { Origin: OTHER_ALLOWED_ORIGIN } });
    expect(response.status).toBe(200);
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe(OTHER_ALLOWED_ORIGIN);
    expect(response.headers.get("Access-Control-Allow-Credentials")).toBeNull();
  });
});

describe("CORS: foreign origins are refused", () => {
  it.each(FOREIGN_ORIGINS)("a preflight from %s (%s) gets 403 and no grant", async (_, origin) => {
    expectForeign(await preflight(origin));
  });

  it.each(FOREIGN_ORIGINS)("a GET from %s (%s) gets 403 and no grant", async (_, origin) => {
    expectForeign(await request("GET", "/health", { headers: { Origin: origin } }));
  });

  it("a cross-site login post is refused before it reaches the route: no session, no audit", async () => {
    const account = await registerUser();
    const ip = randomIp();
    const response = await request("POST", "/api/auth/login", {
      headers: { Origin: "https://evil.test" },
      body: { email: account.email, password: account.password },
      ip,
    });
    expectForeign(response);
    expect(sessionCookies(response.headers)).toHaveLength(0);
    // A same-origin failure from that address afterwards is the only event it leaves.
    expect((await request("POST", "/api/auth/login", { body: { email: account.email, password: "wrong-password-1" }, ip })).status).toBe(
      401,
    );
    const events = await auditEvents({ ip });
    expect(events.map((event) => event.type)).toEqual(["login.failed"]);
  });

  it("a cross-site form post riding on the session cookie cannot log the victim out", async () => {
    const account = await registerUser();
    const response = await request("POST", "/api/auth/logout", { headers: { Origin: "null" }, cookie: account.cookie });
    expectForeign(response);
    expect((await request("GET", "/api/auth/me", { cookie: account.cookie })).status).toBe(200);
  });

  it("a cross-site register post creates no account", async () => {
    const email = uniqueEmail();
    expectForeign(
      await request("POST", "/api/auth/register", {
        headers: { Origin: `https://evil${allowedHost}` },
        body: { email, password: strongPassword() },
      }),
    );
    expect(await findUser(email)).toBeNull();
  });
});

describe("changes made with the session cookie come from this origin's own pages", () => {
  const logoutWithCookie = (cookie: string, headers: Record<string, string>) => request("POST", "/api/auth/logout", { cookie, headers });

  it.each([
    ["no Origin at all", {}],
    ["an allowlisted sibling origin (same site, so the cookie rides along)", { Origin: ALLOWED_ORIGIN }],
  ])("a cookie POST with %s is refused with 403 and changes nothing", async (_, headers: Record<string, string>) => {
    const account = await registerUser();
    const response = await logoutWithCookie(account.cookie, headers);
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe("origin_not_allowed");
    expect((await request("GET", "/api/auth/me", { cookie: account.cookie })).status).toBe(200);
  });

  it("a cookie DELETE from another origin cannot revoke a key", async () => {
    const account = await registerUser();
    const created = await request("POST", "/api/auth/api-keys", { token: account.accessToken, body: { description: "kept" } });
    expect(created.status).toBe(201);
    const response = await request("DELETE", `/api/auth/api-keys/${created.body.id}`, {
      cookie: account.cookie,
      headers: { Origin: OTHER_ALLOWED_ORIGIN },
    });
    expect(response.status).toBe(403);
    const listed = await request("GET", "/api/auth/api-keys", { token: account.accessToken });
    expect(listed.body.keys[0].revokedAt).toBeNull();
  });

  it("the same POST from this origin passes, and a bearer token from an allowlisted origin still does", async () => {
    const account = await registerUser();
    expect((await logoutWithCookie(account.cookie, { Origin: BASE_URL })).status).toBe(204);
    const other = await registerUser();
    expect((await request("POST", "/api/auth/logout", { token: other.accessToken, headers: { Origin: ALLOWED_ORIGIN } })).status).toBe(204);
  });

  it("reads with the cookie need no Origin", async () => {
    const account = await registerUser();
    expect((await request("GET", "/api/auth/me", { cookie: account.cookie })).status).toBe(200);
  });
});
