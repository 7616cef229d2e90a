import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { launchChromium } from "../support/e2e/browser";
import { request } from "../support/e2e/client";

/**
 * The whole OIDC sign-in in a real browser: the hosted sign-in page, the Worker under wrangler dev,
 * and a real oidc-provider on loopback (scripts/dev/dev-idp.ts) as the `dev` provider. The browser
 * reaches the Worker as localhost, the IdP as 127.0.0.1: two sites, as with a real provider.
 */
const workerUrl = () => `http://localhost:${new URL(inject("baseUrl")).port}`;

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => browser?.close());

async function signInAtDevIdp(page: import("playwright-core").Page, login: string) {
  await page.goto(`${workerUrl()}/sign-in`);
  await page.locator('a.provider[data-provider="dev"]').click();
  // oidc-provider's development login page: any login and password.
  await page.waitForURL(new RegExp(`^${inject("devIdpIssuer")}/`));
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill("any password");
  await page.locator("button[type=submit]").click();
  await page.waitForURL(new RegExp(`^${workerUrl()}/sign-in`));
}

describe("provider sign-in in real Chromium against oidc-provider", () => {
  it("signs in through the dev IdP: account created, session cookie set, tokens collected with the ticket", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("pageerror", (error) => problems.push(String(error)));
    const login = `ada-${crypto.randomUUID().slice(0, 8)}`;

    await signInAtDevIdp(page, login);
    await expect.poll(() => page.locator("#status").textContent()).toBe(`Signed in as ${login}@dev.heady.local`);
    // The ticket was removed from the address bar once used.
    expect(page.url()).toBe(`${workerUrl()}/sign-in`);

    const cookies = await context.cookies(workerUrl());
    const session = cookies.find((cookie) => cookie.name === "__Host-heady_session");
    expect(session).toMatchObject({ httpOnly: true, secure: true, sameSite: "Strict", path: "/" });
    const binding = cookies.find((cookie) => cookie.name === "__Host-heady_oauth");
    expect(binding).toMatchObject({ httpOnly: true, secure: true, sameSite: "Lax" });

    // The session works as any other: the same browser's cookie answers /api/auth/me.
    const me = await request("GET", "/api/auth/me", { headers: { Cookie: `__Host-heady_session=${session!.value}` } });
    expect(me.status).toBe(200);
    expect(me.body.email).toBe(`${login}@dev.heady.local`);

    // The second sign-in with the same IdP account lands in the same account.
    const again = await (await browser.newContext()).newPage();
    await signInAtDevIdp(again, login);
    await expect.poll(() => again.locator("#status").textContent()).toBe(`Signed in as ${login}@dev.heady.local`);
    expect(await again.locator("#status").getAttribute("data-signed-in")).toBe(
      await page.locator("#status").getAttribute("data-signed-in"),
    );
    expect(problems).toEqual([]);
    await context.close();
  });

  it("refuses a callback URL replayed, in another browser, with a 4xx", async () => {
    const attacker = await browser.newContext();
    const page = await attacker.newPage();
    let callbackUrl = "";
    page.on("request", (request) => {
      if (request.url().startsWith(`${workerUrl()}/api/provider/callback/`)) callbackUrl = request.url();
    });
    await signInAtDevIdp(page, "mallory");
    await expect.poll(() => page.locator("#status").textContent()).toBe("Signed in as mallory@dev.heady.local");
    expect(callbackUrl).toMatch(/[?&]code=.*[?&]state=|[?&]state=.*[?&]code=/);
    expect(new URL(callbackUrl).searchParams.get("iss")).toBe(inject("devIdpIssuer"));

    const victim = await (await browser.newContext()).newPage();
    const response = await victim.goto(callbackUrl);
    expect(response?.status()).toBe(400);
    expect(JSON.parse((await victim.locator("body").textContent()) ?? "").error.code).toBe("invalid_request");
    expect(await victim.context().cookies(workerUrl())).toEqual([]);
    await attacker.close();
  });
});
