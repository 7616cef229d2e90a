import { describe, expect, it } from "vitest";
import { registerUser } from "../support/accounts";
import { BASE_URL } from "../support/config";
import { request } from "../support/worker";

/** Every hosted page, and what a person signed out gets there. */
const PAGES = ["/", "/sign-in", "/register", "/account", "/onboarding", "/account/verify-email", "/account/reset-password", "/docs"];

/** The CSP header as a map of directive to its value. */
function directives(csp: string | null): Map<string, string> {
  return new Map(
    (csp ?? "")
      .split(";")
      .map((part) => part.trim())
      .filter(Boolean)
      .map((part) => {
        const [name = "", ...values] = part.split(/\s+/);
        return [name, values.join(" ")];
      }),
  );
}

const nonceOf = (csp: string | null) => /'nonce-([A-Za-z0-9_-]+)'/.exec(csp ?? "")?.[1];

describe("hosted pages: security headers", () => {
  it.each(PAGES)("%s: a strict CSP with this response's nonce on every script, no framing, no caching", async (path) => {
    const response = await request("GET", path);
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toMatch(/^text\/html/);
    const csp = response.headers.get("Content-Security-Policy");
    const policy = directives(csp);
    expect(policy.get("default-src")).toBe("'none'");
    expect(policy.get("script-src")).toMatch(/^'nonce-[A-Za-z0-9_-]{22}'$/);
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).not.toContain("unsafe-eval");
    expect(policy.get("style-src")).toBe("'self'");
    expect(policy.get("frame-ancestors")).toBe("'none'");
    expect(policy.get("base-uri")).toBe("'none'");
    expect(policy.get("form-action")).toBe("'self'");
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    expect(response.headers.get("Referrer-Policy")).toBe("no-referrer");
    expect(response.headers.get("X-Frame-Options")).toBe("DENY");

    const scripts = [...response.text.matchAll(/<script\b[^>]*>/g)].map((match) => match[0]);
    expect(scripts.length).toBeGreaterThan(0);
    for (const tag of scripts) expect(tag).toContain(`nonce="${nonceOf(csp)}"`);
    // No inline style or event handler attribute, which the policy would block.
    expect(response.text).not.toMatch(/\sstyle="|\son[a-z]+="/);
  });

  it("the nonce is fresh for every response", async () => {
    const nonces = new Set<string | undefined>();
    for (let i = 0; i < 3; i++) nonces.add(nonceOf((await request("GET", "/sign-in")).headers.get("Content-Security-Policy")));
    expect(nonces.size).toBe(3);
    expect(nonces.has(undefined)).toBe(false);
  });

  it("the stylesheet is served as CSS from this origin", async () => {
    const response = await request("GET", "/pages/style.css");
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toMatch(/^text\/css/);
    expect(response.text).toContain(":focus-visible");
  });
});

describe("hosted pages: sign-in and its return path", () => {
  it("renders a button for each enabled provider, as /api/provider/list names them", async () => {
    const page = await request("GET", "/sign-in");
    const { providers } = (await request("GET", "/api/provider/list")).body as { providers: { id: string; startUrl: string }[] };
    expect(providers.length).toBeGreaterThan(0);
    for (const provider of providers) {
      expect(page.text).toContain(`href="${provider.startUrl.replaceAll("&", "&amp;")}" data-provider="${provider.id}"`);
    }
    expect(page.text).toContain('href="/register"');
  });

  it.each([
    ["/onboarding", "/onboarding"],
    ["/account", "/account"],
    ["//evil.test/account", "/account"],
    ["/\\evil.test", "/account"],
    ["https://evil.test/", "/account"],
    ["/account/../../evil", "/account"],
    ["/account?x=1", "/account"],
    ["javascript:alert(1)", "/account"],
    // Same-site paths that are not pages: the gateway, the API, the stylesheet.
    ["/gw/api/repo/clone", "/account"],
    ["/gw", "/account"],
    ["/api/auth/me", "/account"],
    ["/onboarding/status", "/account"],
    ["/pages/style.css", "/account"],
    ["/account/", "/account"],
  ])("?return=%s goes back to %s, a hosted page only", async (value, expected) => {
    const page = await request("GET", `/sign-in?return=${encodeURIComponent(value)}`);
    expect(page.text).toContain(`data-return="${expected}"`);
  });

  it.each(PAGES)("?return=%s, a hosted page, is kept", async (path) => {
    const page = await request("GET", `/sign-in?return=${encodeURIComponent(path)}`);
    expect(page.text).toContain(`data-return="${path}"`);
  });
});

describe("hosted pages: pages for a signed-in person", () => {
  // They render for anyone: the SameSite=Strict cookie does not come with a navigation from another
  // site, so the page's own first API call decides (test/e2e/pages-account.test.ts sees the redirect).
  it.each(["/account", "/onboarding"])("%s renders without a session, under the same headers, and asks for one", async (path) => {
    const response = await request("GET", path);
    expect(response.status).toBe(200);
    expect(nonceOf(response.headers.get("Content-Security-Policy"))).toBeDefined();
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    expect(response.text).toContain('data-session="required"');
  });

  it("the account page's provider links come back to the account page, which the allowlist takes", async () => {
    const account = await registerUser();
    const page = await request("GET", "/account", { cookie: account.cookie });
    const linkReturn = /id="link-providers" data-return="([^"]+)"/.exec(page.text)?.[1];
    expect(linkReturn).toBe(`${BASE_URL}/account`);
    const started = await request("POST", "/api/provider/link", {
      token: account.accessToken,
      body: { provider: "oidc", redirectTo: linkReturn },
    });
    expect(started.status).toBe(200);
    expect(started.body.authorizationUrl).toMatch(/^http/);
  });
});
