import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { findUser } from "../support/accounts";
import { parseSetCookie } from "../support/cookies";
import { sha256Hex } from "../support/encoding";
import { browse, newBrowser, startSignIn, ticketOf } from "../support/providers";
import { request } from "../support/worker";

/**
 * Interoperability with a real, certified OpenID Provider: oidc-provider (scripts/dev/dev-idp.ts) on
 * loopback as the `dev` provider. The test plays the user at its development login page over HTTP,
 * keeping the IdP's cookies as a browser would. With oidc-provider's defaults the ID token carries
 * only `sub` for a code flow, so the email comes from userinfo, checked to be about the same subject.
 */

/** A cookie jar for the IdP's origin. */
class IdpBrowser {
  private readonly cookies = new Map<string, string>();

  async go(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set("Cookie", [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; "));
    const response = await fetch(url, { ...init, headers, redirect: "manual" });
    for (const header of response.headers.getSetCookie()) {
      const cookie = parseSetCookie(header);
      this.cookies.set(cookie.name, cookie.value);
    }
    return response;
  }

  /** Follows redirects while they stay at the IdP; answers the first one that leaves it (or a page). */
  async follow(url: string, init: RequestInit = {}): Promise<{ response: Response; url: string }> {
    let response = await this.go(url, init);
    let current = url;
    while (response.status >= 300 && response.status < 400) {
      const next = new URL(response.headers.get("location")!, current).href;
      if (new URL(next).origin !== env.OAUTH_DEV_ISSUER) return { response, url: next };
      current = next;
      response = await this.go(next);
    }
    return { response, url: current };
  }
}

/** Signs in at oidc-provider's development login page as `login`; answers where it sends the browser back. */
async function loginAtOidcProvider(authorizationUrl: URL, login: string): Promise<URL> {
  const idp = new IdpBrowser();
  const page = await idp.follow(authorizationUrl.href);
  const html = await page.response.text();
  const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
  if (!action) throw new Error(`no login form at ${page.url}: ${html.slice(0, 200)}`);
  const back = await idp.follow(new URL(action.replaceAll("&amp;", "&"), page.url).href, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ prompt: "login", login, password: "any password" }).toString(),
  });
  return new URL(back.url);
}

describe("provider sign-in against a real oidc-provider", () => {
  it("completes the code flow with PKCE, nonce and RFC 9207 iss, and creates the account from userinfo", async () => {
    const browser = newBrowser();
    const authorization = await startSignIn(browser, "dev");
    expect(authorization.origin).toBe(env.OAUTH_DEV_ISSUER);
    const login = `ada${crypto.randomUUID().slice(0, 8)}`;
    const callback = await loginAtOidcProvider(authorization, login);
    expect(callback.href).toMatch(/^https:\/\/id\.heady\.test\/api\/provider\/callback\/dev\?/);
    expect(callback.searchParams.get("iss")).toBe(env.OAUTH_DEV_ISSUER);

    const response = await browse(browser, "GET", callback.pathname + callback.search);
    expect(response.status, response.text).toBe(302);
    const tokens = await browse(browser, "POST", "/api/provider/tokens", { body: { ticket: ticketOf(response) } });
    expect(tokens.status, tokens.text).toBe(200);
    expect(tokens.body.user.email).toBe(`${login}@dev.heady.local`);
    expect((await findUser(`${login}@dev.heady.local`))?.id).toBe(tokens.body.user.id);
    const identities = await request("GET", "/api/provider/identities", { token: tokens.body.accessToken });
    expect(identities.body.identities).toMatchObject([{ provider: "dev", subject: login, emailVerified: true }]);
  });

  it("refuses the real provider's code when the PKCE verifier is not the one it was issued for", async () => {
    const browser = newBrowser();
    const authorization = await startSignIn(browser, "dev");
    const updated = await env.DB.prepare("UPDATE oauth_flows SET code_verifier = ? WHERE state_hash = ?")
      .bind("x".repeat(43), await sha256Hex(authorization.searchParams.get("state")!))
      .run();
    expect(updated.meta.changes).toBe(1);
    const callback = await loginAtOidcProvider(authorization, "mallory");
    const response = await browse(browser, "GET", callback.pathname + callback.search);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe("provider_error");
  });
});
