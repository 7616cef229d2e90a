import { describe, expect, it } from "vitest";
import { allowedMethods, allowsMethod, matchRoute } from "../../src/gateway/match";
import { type GatewayPath, parseGatewayPath } from "../../src/gateway/path";
import { type GatewayRoute, GatewayRoutesSchema } from "../../src/gateway/routes-config";

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
    ["/files/.well-known", ["files", ".well-known"]],
    ["/files/~user/a~b", ["files", "~user", "a~b"]],
    ["/v1/things:batchGet", ["v1", "things:batchget"]],
    ["/%EF%BD%92%EF%BD%85%EF%BD%90%EF%BD%8F", ["repo"]], // full-width ｒｅｐｏ folds to repo
    // Letters that a char-by-char case-insensitive compare (Java's equalsIgnoreCase) takes for ASCII.
    ["/adm%C4%B1n", ["admin"]], // dotless ı
    ["/adm%C4%B0n", ["admin"]], // dotted İ
    ["/stra%C3%9Fe", ["strasse"]], // ß case-folds to ss
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
    ["/api/%u0072epo/clone", /malformed percent-escape/], // IIS's %u encoding
    ["/api/%c0%ae%c0%ae/admin", /not valid percent-encoded UTF-8/],
    ["/api/%EF%BC%8E%EF%BC%8E/admin", /dot segments/], // full-width ．．
    ["/api/%E2%80%A5/admin", /dot segments/], // ‥ (two-dot leader) folds to ..
    ["/api/public%EF%BC%8Frepo", /fold into slashes/], // full-width ／
    ["api/repo", /must start with/],
  ])("%s", (raw, reason) => {
    expect(refusal(raw)).toMatch(reason);
  });
});

/**
 * Spellings that an origin folds into another path (IIS and Windows drop trailing dots and spaces,
 * read `::$DATA` streams and 8.3 short names; Spring trims tokens; some proxies decode `%3F` and
 * re-split; NFKC folds full-width forms), so they could reach a protected path under a weaker rule.
 */
describe("parseGatewayPath: spellings some origin folds are refused", () => {
  it.each([
    ["/api/repo./clone", /trailing dots or spaces/],
    ["/api/repo/clone.", /trailing dots or spaces/],
    ["/api/repo/clone...", /trailing dots or spaces/],
    ["/api/repo/clone%20", /trailing dots or spaces/],
    ["/api/repo/clone.%20.", /trailing dots or spaces/],
    ["/api/repo/%20clone", /leading spaces/],
    ["/api/repo/clone%C2%A0", /trailing dots or spaces/], // no-break space
    ["/api/repo/clone%E3%80%80", /trailing dots or spaces/], // ideographic space
    ["/api/repo/clone%EF%BC%8E", /trailing dots or spaces/], // full-width ．
    ["/files/...", /trailing dots or spaces/],
    ["/api/repo/clone::$DATA", /NTFS stream/],
    ["/api/repo/clone::%24DATA", /NTFS stream/],
    ["/api/repo:$i30:$INDEX_ALLOCATION/clone", /NTFS stream/],
    ["/api/repo/clone%EF%BC%9A%EF%BC%9A%EF%BC%84DATA", /NTFS stream/], // full-width ：：＄
    ["/api/REPO~1/clone", /8.3 short names/],
    ["/api/repo/CLONE~12.ASP", /8.3 short names/],
    ["/api/repo/clone%E2%80%8B", /invisible characters/], // zero-width space
    ["/api/re%E2%80%8Cpo/clone", /invisible characters/], // zero-width non-joiner
    ["/api/repo/clone%C2%AD", /invisible characters/], // soft hyphen
    ["/api/repo/%EF%BB%BFclone", /invisible characters/], // BOM
    ["/api/repo/clone%E2%81%A0", /invisible characters/], // word joiner
    ["/api/repo/clo%E2%80%AEne", /invisible characters/], // right-to-left override
    ["/api/repo/clone%EF%B8%8F", /invisible characters/], // variation selector
    ["/api/repo/clone%C2%85", /control characters/], // NEL, a C1 control
    ["/api/repo/clone%3Fx=1", /encoded \? and #/],
    ["/api/repo/clone%23x", /encoded \? and #/],
    ["/api/repo/clone%EF%BC%9Fx", /encoded \? and #/], // full-width ？
    ["/api/repo%EF%BC%9B/clone", /path parameters/], // full-width ；
    ["/api/repo/clone%EF%BC%85%32%65", /double percent-encoding/], // full-width ％
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

  it("a file suffix does not dodge a rule (Spring's suffix pattern serves /clone.json as /clone)", () => {
    expect(matched("/api/repo/clone.json")).toBe("/api/repo/clone");
    expect(matched("/api/repo/CLONE.XML")).toBe("/api/repo/clone");
    expect(matched("/api/repo/clone.tar.gz/x")).toBe("/api/repo/clone");
    expect(matched("/api/repo.json/clone")).toBe("/api/repo/clone");
    expect(matched("/api/repo.git")).toBe("/api/repo");
    // Only a suffix after a dot: other words that start the same are other paths.
    expect(matched("/api/repo/clones")).toBe("/api/repo");
    expect(matched("/api/repo/clone-x")).toBe("/api/repo");
    expect(matched("/api/repository.json")).toBe("/");
  });

  it("a prefix spelt with its suffix wins over the suffix reading of a shorter word", () => {
    const dotted = table([
      route("/api/v1", { require: { kind: "public" } }),
      route("/api/v1.2", { require: { kind: "jwt", minRole: "admin" } }),
    ]);
    expect(matchRoute(dotted, accepted("/api/v1.2/x"))?.prefix).toBe("/api/v1.2");
    expect(matchRoute(dotted, accepted("/api/v1.2.json"))?.prefix).toBe("/api/v1.2");
    expect(matchRoute(dotted, accepted("/api/v1.json"))?.prefix).toBe("/api/v1");
  });

  it("letters that fold into ASCII under NFKC or case-insensitive compares meet the ASCII rule", () => {
    expect(matched("/api/%EF%BD%92%EF%BD%85%EF%BD%90%EF%BD%8F/clone")).toBe("/api/repo/clone");
    const admin = table([route("/"), route("/admin", { require: { kind: "jwt", minRole: "admin" } })]);
    expect(matchRoute(admin, accepted("/adm%C4%B1n/users"))?.prefix).toBe("/admin");
    expect(matchRoute(admin, accepted("/ADM%C4%B0N"))?.prefix).toBe("/admin");
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
    expect(allowsMethod(any, "PATCH")).toBe(true);
  });

  it("HEAD goes wherever GET does (RFC 9110 §9.1), as on the Worker's own routes; Allow lists methods in the usual order", () => {
    const [getOnly, postOnly, reversed] = table([
      route("/a", { methods: ["GET"] }),
      route("/b", { methods: ["POST"] }),
      route("/c", { methods: ["DELETE", "POST", "get"] }),
    ]).sort((x, y) => x.prefix.localeCompare(y.prefix)) as [GatewayRoute, GatewayRoute, GatewayRoute];
    expect(allowsMethod(getOnly, "HEAD")).toBe(true);
    expect(allowsMethod(postOnly, "HEAD")).toBe(false);
    expect(allowedMethods(getOnly)).toBe("GET, HEAD");
    expect(allowedMethods(postOnly)).toBe("POST");
    expect(allowedMethods(reversed)).toBe("GET, HEAD, POST, DELETE");
  });
});
