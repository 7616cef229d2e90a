import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { Bindings } from "../../src/env";
import { resetPqcKeyringForTests } from "../../src/pqc/keyring";
import { registerUser, type SignedIn } from "../support/accounts";
import { strongPassword, uniqueEmail } from "../support/fresh";
import type { Handler } from "../support/http";
import { kvDown } from "../support/outages";
import { jwks, requestPqcToken } from "../support/pqc";
import { appWith, request } from "../support/worker";

/**
 * Storage outages are a 503 `unavailable` with Retry-After, not a 500. workerd's local D1, KV and
 * Durable Objects cannot go down, so the outage is the one thing faked here: the real bindings,
 * wrapped so that every operation fails the way Cloudflare's do when the service is unreachable
 * (the messages are the runtime's own). Everything before the failing call runs for real.
 */

/** Every statement the real D1 prepares fails on execution, as when D1 cannot be reached. */
function d1Down(d1: D1Database): D1Database {
  const outage = () => Promise.reject(new Error("D1_ERROR: Network connection lost."));
  const failing = (statement: D1PreparedStatement): D1PreparedStatement =>
    ({
      bind: (...values: unknown[]) => failing(statement.bind(...values)),
      first: outage,
      all: outage,
      run: outage,
      raw: outage,
    }) as unknown as D1PreparedStatement;
  return { prepare: (query: string) => failing(d1.prepare(query)), batch: outage, exec: outage } as unknown as D1Database;
}

/** Every rate-limiter object is unreachable, as when its Durable Object is overloaded. */
function limiterDown(namespace: DurableObjectNamespace): DurableObjectNamespace {
  const stub = {
    consume: () => Promise.reject(new Error("Durable Object is overloaded. Too many requests queued.")),
    reset: () => Promise.reject(new Error("Durable Object is overloaded. Too many requests queued.")),
  };
  return { idFromName: (name: string) => namespace.idFromName(name), get: () => stub } as unknown as DurableObjectNamespace;
}

function expectUnavailable(response: { status: number; body: any; headers: Headers; text: string }) {
  expect(response.status, response.text).toBe(503);
  expect(response.body.error.code).toBe("unavailable");
  expect(response.body.error.message).not.toMatch(/D1_ERROR|KV GET|KV PUT|overloaded|Network/);
  expect(Number(response.headers.get("Retry-After"))).toBeGreaterThan(0);
}

let user: SignedIn;
let withoutD1: Handler;
let withoutKv: Handler;
let withoutLimiter: Handler;
beforeAll(async () => {
  user = await registerUser();
  withoutD1 = appWith({ ...env, DB: d1Down(env.DB) } as Bindings);
  withoutKv = appWith({ ...env, CACHE: kvDown() } as Bindings);
  withoutLimiter = appWith({ ...env, LIMITER: limiterDown(env.LIMITER) } as unknown as Bindings);
});

describe("D1 unreachable: 503 unavailable", () => {
  it("login, registration and refresh", async () => {
    expectUnavailable(
      await request("POST", "/api/auth/login", { body: { email: user.email, password: user.password }, handler: withoutD1 }),
    );
    expectUnavailable(
      await request("POST", "/api/auth/register", { body: { email: uniqueEmail(), password: strongPassword() }, handler: withoutD1 }),
    );
    expectUnavailable(await request("POST", "/api/auth/refresh", { body: { refreshToken: user.refreshToken }, handler: withoutD1 }));
  });

  it("verifying an access token (its session is read in D1) and an API key", async () => {
    expectUnavailable(await request("GET", "/api/auth/verify", { token: user.accessToken, handler: withoutD1 }));
    expectUnavailable(await request("GET", "/api/auth/me", { token: user.accessToken, handler: withoutD1 }));
    const created = await request("POST", "/api/auth/api-keys", { token: user.accessToken, body: { description: "outage", scopes: [] } });
    expect(created.status, created.text).toBe(201);
    expectUnavailable(await request("GET", "/api/auth/verify", { apiKey: created.body.key, handler: withoutD1 }));
  });

  it("resolving a PQC reference (references live in D1)", async () => {
    const issued = await requestPqcToken({ service: "headyme", operation: "sync", reference: true }, { token: user.accessToken });
    expect(issued.status, issued.text).toBe(200);
    expectUnavailable(await request("GET", "/api/auth/verify", { pqc: issued.body.reference, handler: withoutD1 }));
  });

  it("the health check says 503 rather than 500", async () => {
    expectUnavailable(await request("GET", "/health", { handler: withoutD1 }));
  });
});

describe("a bug is still a bug: 500", () => {
  it("a statement the real D1 rejects (a table that is not there, as after a missed migration) is 500 internal_error, not 503", async () => {
    const d1 = env.DB;
    const missingTable = {
      prepare: (query: string) => d1.prepare(query.replaceAll('"users"', '"users_not_migrated"')),
      batch: (s: D1PreparedStatement[]) => d1.batch(s),
    };
    const broken = appWith({ ...env, DB: missingTable as unknown as D1Database } as Bindings);
    const response = await request("POST", "/api/auth/login", { body: { email: user.email, password: user.password }, handler: broken });
    expect(response.status, response.text).toBe(500);
    expect(response.body.error.code).toBe("internal_error");
    expect(response.headers.get("Retry-After")).toBeNull();
  });
});

describe("KV unreachable: PQC keys come from the signer instead", () => {
  it("a fresh isolate verifies a PQC token with the key the signer supplies, and publishes the JWKS", async () => {
    const issued = await requestPqcToken({ service: "headyme", operation: "sync" }, { token: user.accessToken });
    expect(issued.status, issued.text).toBe(200);
    resetPqcKeyringForTests();
    const verified = await request("GET", "/api/auth/verify", { pqc: issued.body.pqcToken, handler: withoutKv });
    expect(verified.status, verified.text).toBe(200);
    expect(verified.body).toMatchObject({ valid: true, kind: "pqc_token" });
    resetPqcKeyringForTests();
    expect((await jwks(withoutKv)).some((key) => key.kty === "AKP")).toBe(true);
  });
});

describe("the rate limiter unreachable: 503 unavailable", () => {
  it("login and registration, which are rate limited before anything else", async () => {
    expectUnavailable(
      await request("POST", "/api/auth/login", { body: { email: user.email, password: user.password }, handler: withoutLimiter }),
    );
    expectUnavailable(
      await request("POST", "/api/auth/register", { body: { email: uniqueEmail(), password: strongPassword() }, handler: withoutLimiter }),
    );
  });
});
