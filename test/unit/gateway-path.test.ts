import { describe, expect, it } from "vitest";
import { allowedMethods, allowsMethod, matchRoute } from "../../src/gateway/match";
import { parseGatewayPath, type GatewayPath } from "../../src/gateway/path";
import { GatewayRoutesSchema, type GatewayRoute } from "../../src/gateway/routes-config";

function accepted(raw: string): GatewayPath {
  const parsed = parseGatewayPath(raw);
  if (!parsed.ok) throw new Error(`${raw} was refused: ${parsed.reason}`);
  return parsed.path;
}

function refusal(raw: string): string {
  const parsed = parseGatewayPath(raw);
  if (parsed.ok) throw new Error(`${raw} was accepted as ${parsed.path.keys.join("/")}`);
  return parsed.reason;
}

describe("parseGatewayPath: what is accepted", () => {
  it.each([
    ["/", []],
    ["/api/repo/clone", ["api", "repo", "clone"]],
    ["/api/repo/clone/", ["api", "repo", "clone"]],
    ["/API/Repo/Clone", ["api", "repo", "clone"]],
    ["/api/%72epo/clone", ["api", "repo", "clone"]],
    ["/files/caf%C3%A9%20menu.txt", ["files", "café menu.txt"]],
    ["/files/report.v2.json", ["files", "report.v2.json"]],
    ["/files/...", ["files", "..."]],
  ])("%s → %j", (raw, keys) => {
    expect(accepted(raw)).toEqual({ raw, keys });
  });
});

describe("parseGatewayPath: tricks that could reach another rule's space are refused", () => {
  it.each([
    ["/api/../admin", /dot segments/],
    ["/api/./admin", /dot segments/],
    ["/api/%2e%2e/admin", /percent-encoded dots/],
    ["/api/.%2E/admin", /percent-encoded dots/],
    ["/api/%2e/admin", /percent-encoded dots/],
    ["/api/file%2ejson", /percent-encoded dots/],
    ["/api/public/..%2frepo/clone", /encoded slashes/],
    ["/api/public%2F..%2Frepo", /encoded slashes/],
    ["/api/public/..%5crepo", /encoded slashes and backslashes/],
    ["/api/public/..\\repo", /backslashes/],
    ["/api//repo/clone", /empty path segments/],
    ["//api/repo", /empty path segments/],
    ["/api/repo//", /empty path segments/],
    ["/api/%252e%252e/admin", /double percent-encoding/],
    ["/api/%25252e/admin", /double percent-encoding/],
    ["/api/repo;/clone", /path parameters/],
    ["/api/..;/admin", /path parameters/],
    ["/api/repo%3bjsessionid=1/clone", /path parameters/],
    ["/api/%00/admin", /control characters/],
    ["/api/a%0d%0aX-Injected:1", /control characters/],
    ["/api/%zz/admin", /malformed percent-escape/],
    ["/api/%2/admin", /malformed percent-escape/],
    ["/api/%c0%ae%c0%ae/admin", /not valid percent-encoded UTF-8/],
    ["/api/%EF%BC%8E%EF%BC%8E/admin", /dot segments/], // full-width ．．
    ["/api/%E2%80%A5/admin", /dot segments/], // ‥ (two-dot leader) folds to ..
    ["/api/public%EF%BC%8Frepo", /fold into slashes/], // full-width ／
    ["api/repo", /must start with/],
  ])("%s", (raw, reason) => {
    expect(refusal(raw)).toMatch(reason);
  });
});

function table(entries: unknown[]): GatewayRoute[] {
  return GatewayRoutesSchema.parse(entries);
}

const route = (prefix: string, extra: Record<string, unknown> = {}) => ({
  prefix,
  methods: ["GET"],
  origin: "https://origin.test",
  require: { kind: "public" },
  ...extra,
});

describe("matchRoute: longest prefix on whole segments", () => {
  const routes = table([
    route("/"),
    route("/api/repo", { require: { kind: "jwt", minRole: "user" } }),
    route("/api/repo/clone", { require: { kind: "pqc", service: "production", operation: "clone" } }),
    route("/api/public"),
  ]);
  const matched = (raw: string) => matchRoute(routes, accepted(raw))?.prefix;

  it("picks the longest matching prefix, whatever the table's order", () => {
    expect(matched("/api/repo/clone")).toBe("/api/repo/clone");
    expect(matched("/api/repo/clone/deep/path")).toBe("/api/repo/clone");
    expect(matched("/api/repo/list")).toBe("/api/repo");
    expect(matched("/api/repo")).toBe("/api/repo");
  });

  it("matches on segment boundaries: /api/repo does not cover /api/repository or /api/repo-x", () => {
    expect(matched("/api/repository")).toBe("/");
    expect(matched("/api/repo-x/clone")).toBe("/");
    expect(matched("/api/repo/cloned")).toBe("/api/repo");
  });

  it("compares in the protective reading: case and percent-encoding cannot dodge a stricter rule", () => {
    expect(matched("/API/REPO/CLONE")).toBe("/api/repo/clone");
    expect(matched("/api/%72%65%70%6f/clone")).toBe("/api/repo/clone");
    expect(matched("/api/Repo/clone/")).toBe("/api/repo/clone");
  });

  it("without a catch-all, an unrouted path matches nothing", () => {
    const narrow = table([route("/api/public")]);
    expect(matchRoute(narrow, accepted("/api/private"))).toBeUndefined();
    expect(matchRoute(narrow, accepted("/"))).toBeUndefined();
    expect(matchRoute(narrow, accepted("/api/public/x"))?.prefix).toBe("/api/public");
  });
});

describe("allowsMethod", () => {
  it("allows the listed methods (any case) and refuses others; * allows all", () => {
    const [listed, any] = table([route("/a", { methods: ["get", "POST"] }), route("/b", { methods: ["*"] })]).sort((x, y) =>
      x.prefix.localeCompare(y.prefix),
    ) as [GatewayRoute, GatewayRoute];
    expect(allowsMethod(listed, "GET")).toBe(true);
    expect(allowsMethod(listed, "post")).toBe(true);
    expect(allowsMethod(listed, "DELETE")).toBe(false);
    expect(allowedMethods(listed)).toBe("GET, POST");
    expect(allowsMethod(any, "PATCH")).toBe(true);
  });
});
