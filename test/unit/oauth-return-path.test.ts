import { describe, expect, it } from "vitest";
import { safeReturnPath } from "../../src/pages/return-path";

const PAGES = new Set(["/account", "/onboarding"]);

describe("sign-in's ?return= and authorization requests", () => {
  it("accepts exactly /oauth/authorize with a query, as a path on this origin", () => {
    expect(safeReturnPath("/oauth/authorize?client_id=a&state=b", PAGES)).toBe("/oauth/authorize?client_id=a&state=b");
    expect(safeReturnPath("/onboarding", PAGES)).toBe("/onboarding");
  });

  it("refuses anything else: other origins, other paths, fragments, backslashes, no query", () => {
    for (const value of [
      "//evil.test/oauth/authorize?x=1",
      "https://evil.test/oauth/authorize?x=1",
      "/oauth/authorize",
      "/oauth/authorize/../../api/auth/logout?x=1",
      "/oauth/authorize?x=1#frag",
      "/oauth/authorize?\\\\evil.test",
      "/oauth/token?x=1",
      "/oauth/authorizex?x=1",
      "/\\evil.test/oauth/authorize?x=1",
    ]) {
      expect(safeReturnPath(value, PAGES), value).toBe("/account");
    }
  });
});
