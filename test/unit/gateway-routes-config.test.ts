import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type Bindings, ConfigError, loadConfig } from "../../src/env";
import { describeRequirement } from "../../src/gateway/routes-config";

/** The test bindings with another route table (and whatever else is overridden). */
const bindingsWith = (overrides: Partial<Bindings>): Bindings => ({ ...env, ...overrides });

const route = (extra: Record<string, unknown> = {}) => ({
  prefix: "/api/thing",
  methods: ["GET"],
  origin: "https://origin.test",
  require: { kind: "public" },
  ...extra,
});

function configError(routes: unknown, overrides: Partial<Bindings> = {}): string {
  try {
    loadConfig(bindingsWith({ GATEWAY_ROUTES: typeof routes === "string" ? routes : JSON.stringify(routes), ...overrides }));
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error("the table was accepted");
}

describe("GATEWAY_ROUTES: the wrangler.toml table", () => {
  it("loads, longest prefix first, with the guide's PQC requirements", () => {
    const { routes, assertionSeed } = loadConfig(env).gateway;
    expect(assertionSeed).toBe(env.ASSERTION_SEED);
    const byPrefix = new Map(routes.map((entry) => [entry.prefix, entry]));
    expect(byPrefix.get("/api/sync/privileged-operation")?.require).toEqual({ kind: "pqc", service: "headyme", operation: "sync" });
    expect(byPrefix.get("/api/repo/clone")?.require).toEqual({ kind: "pqc", service: "production", operation: "clone" });
    expect(byPrefix.get("/api/repo/deploy")?.require).toEqual({ kind: "pqc", service: "production", operation: "deploy" });
    expect(new Set(routes.map((entry) => entry.require.kind))).toEqual(new Set(["public", "jwt", "api_key", "pqc", "mtls"]));
    const lengths = routes.map((entry) => entry.keys.length);
    expect(lengths).toEqual([...lengths].sort((a, b) => b - a));
    for (const entry of routes) {
      expect(entry.forwardCredentials).toBe(false);
      expect(entry.timeoutMs).toBe(10_000);
    }
  });

  it("accepts the same table as a JSON string (the dashboard's form) and normalises prefixes", () => {
    const config = loadConfig(
      bindingsWith({ GATEWAY_ROUTES: JSON.stringify([route({ prefix: "/API/Thing/", methods: ["get", "post"] })]) }),
    );
    const [only] = config.gateway.routes;
    expect(only?.prefix).toBe("/API/Thing");
    expect(only?.keys).toEqual(["api", "thing"]);
    expect(only?.methods).toEqual(new Set(["GET", "POST"]));
  });

  it("an empty table needs no ASSERTION_SEED", () => {
    const config = loadConfig(bindingsWith({ GATEWAY_ROUTES: "[]", ASSERTION_SEED: undefined }));
    expect(config.gateway).toEqual({ routes: [], assertionSeed: undefined });
  });
});

describe("GATEWAY_ROUTES: a bad table is a ConfigError that says what is wrong", () => {
  it.each([
    ["not JSON", "{routes", /GATEWAY_ROUTES must be an array/],
    ["an object", { prefix: "/x" }, /GATEWAY_ROUTES must be an array/],
    [
      "a prefix without /",
      [route({ prefix: "api/thing" })],
      /GATEWAY_ROUTES\[0\] \(api\/thing\): prefix: prefix "api\/thing": the path must start with \//,
    ],
    ["a prefix with ..", [route({ prefix: "/api/../admin" })], /dot segments/],
    ["a prefix with //", [route({ prefix: "/api//thing" })], /empty path segments/],
    ["a prefix with a trailing dot", [route({ prefix: "/api/thing." })], /trailing dots or spaces/],
    ["a prefix with a zero-width space", [route({ prefix: "/api/thing\u200b" })], /invisible characters/],
    ["a prefix spelling a folded duplicate", [route(), route({ prefix: "/api/%EF%BD%94hing" })], /already routed by GATEWAY_ROUTES\[0\]/],
    ["an origin with a path", [route({ origin: "https://origin.test/base" })], /origin must be a bare http\(s\) origin/],
    ["an origin with another scheme", [route({ origin: "ftp://origin.test" })], /origin must be a bare http\(s\) origin/],
    ["an unknown method", [route({ methods: ["FETCH"] })], /methods must be \["\*"\] or some of GET/],
    ["no methods", [route({ methods: [] })], /a route needs at least one method/],
    ["an unknown requirement kind", [route({ require: { kind: "oauth" } })], /require.kind must be one of public, jwt, api_key, pqc, mtls/],
    ["an unknown role", [route({ require: { kind: "jwt", minRole: "root" } })], /minRole must be one of admin, operator, user, guest/],
    ["an api_key route without scopes", [route({ require: { kind: "api_key", scopes: [] } })], /needs at least one scope/],
    ["a typo in a member", [route({ requires: { kind: "public" } })], /GATEWAY_ROUTES\[0\] \(\/api\/thing\): .*requires/],
    ["a stray member in a requirement", [route({ require: { kind: "public", minRole: "admin" } })], /require/],
    ["a zero rate limit", [route({ rateLimit: { limit: 0, windowSeconds: 60 } })], /rateLimit.limit/],
    ["a huge timeout", [route({ timeoutMs: 600_000 })], /timeoutMs/],
    [
      "a duplicate prefix (as matched)",
      [route(), route({ prefix: "/API/thing/" })],
      /GATEWAY_ROUTES\[1\] \(\/API\/thing\/\): prefix \/API\/thing is already routed by GATEWAY_ROUTES\[0\]/,
    ],
  ])("%s", (_, routes, message) => {
    expect(configError(routes)).toMatch(message);
  });

  it("a pqc route for a service operation PQC_SERVICES lacks", () => {
    const message = configError([route({ require: { kind: "pqc", service: "headyme", operation: "constructor" } })]);
    expect(message).toContain("GATEWAY_ROUTES (/api/thing) requires pqc:headyme/constructor, which PQC_SERVICES does not define");
  });

  it("routes without ASSERTION_SEED, or with a short one", () => {
    expect(configError([route()], { ASSERTION_SEED: undefined })).toContain("GATEWAY_ROUTES needs ASSERTION_SEED");
    expect(configError([route()], { ASSERTION_SEED: "c2hvcnQ" })).toContain("ASSERTION_SEED must be exactly 32 bytes");
  });

  it("names every bad entry, not just the first", () => {
    const message = configError([route({ origin: "nope" }), route({ prefix: "/other", methods: ["NOPE"] })]);
    expect(message).toContain("GATEWAY_ROUTES[0] (/api/thing)");
    expect(message).toContain("GATEWAY_ROUTES[1] (/other)");
  });
});

describe("describeRequirement", () => {
  it("names each kind as errors and assertions do", () => {
    expect(describeRequirement({ kind: "public" })).toBe("public");
    expect(describeRequirement({ kind: "mtls" })).toBe("mtls");
    expect(describeRequirement({ kind: "jwt", minRole: "operator" })).toBe("jwt:operator");
    expect(describeRequirement({ kind: "api_key", scopes: ["sync:read", "sync:write"] })).toBe("api_key:sync:read sync:write");
    expect(describeRequirement({ kind: "pqc", service: "production", operation: "clone" })).toBe("pqc:production/clone");
  });
});
