import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { launchChromium } from "../support/e2e/browser";
import { request } from "../support/e2e/client";
import { personPage, signInWithPassword, unexpected, workerUrl } from "../support/e2e/pages";
import { uniqueEmail } from "../support/fresh";
import { authenticatorFor } from "../support/otp-codes";

/**
 * Provider sign-in and linking from the hosted pages, against the loopback oidc-provider that the
 * e2e setup runs as the `dev` provider (scripts/dev/dev-idp.ts): its development login takes any login.
 */
let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => browser?.close());

async function approveAtDevIdp(page: Page, login: string) {
  await page.waitForURL(new RegExp(`^${inject("devIdpIssuer")}/`));
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill("any password");
  await page.locator("button[type=submit]").click();
}

describe("provider sign-in from the hosted pages", () => {
  it("the sign-in page's button signs in through the dev IdP; the account page lists the provider", async () => {
    const login = `grace-${crypto.randomUUID().slice(0, 8)}`;
    const { page, problems } = await personPage(browser);
    await page.goto(`${workerUrl()}/`);
    await page.locator('a.provider[data-provider="dev"]').click();
    await approveAtDevIdp(page, login);
    await page.waitForURL(`${workerUrl()}/sign-in`);
    await expect.poll(() => page.locator("#status").textContent()).toBe(`Signed in as ${login}@dev.heady.local`);
    await page.locator("#continue a").click();
    await page.waitForURL(`${workerUrl()}/account`);
    await expect.poll(() => page.locator("#identities li").count()).toBe(1);
    expect(await page.locator('#identities li [data-field="provider"]').textContent()).toBe("dev");
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it("an account with TOTP stops for the code after the provider, as after a password, and the code signs it in", async () => {
    const login = `tess-${crypto.randomUUID().slice(0, 8)}`;
    const first = await personPage(browser);
    await first.page.goto(`${workerUrl()}/sign-in`);
    await first.page.locator('a.provider[data-provider="dev"]').click();
    await approveAtDevIdp(first.page, login);
    await expect.poll(() => first.page.locator("#status").textContent()).toBe(`Signed in as ${login}@dev.heady.local`);
    await first.page.goto(`${workerUrl()}/account`);
    await first.page.locator("#totp-enroll").click();
    await expect.poll(() => first.page.locator("#totp-uri").textContent()).toMatch(/^otpauth:\/\/totp\//);
    const authenticator = authenticatorFor((await first.page.locator("#totp-uri").textContent())!);
    await first.page.locator("#totp-confirm-code").fill(await authenticator.code(-1));
    await first.page.locator("#totp-confirm button[type=submit]").click();
    await expect.poll(() => first.page.locator("#mfa").getAttribute("data-totp")).toBe("true");
    expect(first.problems).toEqual([]);
    await first.page.context().close();

    // Another browser: the provider alone no longer signs in.
    const { page, problems } = await personPage(browser);
    await page.goto(`${workerUrl()}/sign-in`);
    await page.locator('a.provider[data-provider="dev"]').click();
    await approveAtDevIdp(page, login);
    await page.waitForURL(`${workerUrl()}/sign-in`);
    await expect.poll(() => page.locator("#mfa").isVisible()).toBe(true);
    expect(await page.locator("#status").textContent()).not.toContain("Signed in");
    expect(await page.evaluate(() => fetch("/api/auth/me").then((response) => response.status))).toBe(401);
    await page.locator("#code").fill(await authenticator.code());
    await page.locator("#mfa button[type=submit]").click();
    await page.waitForURL(`${workerUrl()}/account`);
    await expect.poll(() => page.locator("#identities li").count()).toBe(1);
    expect(unexpected(problems, 401)).toEqual([]);
    await page.context().close();
  });

  it("links the dev provider to a password account from /account, comes back there, and unlinks it", async () => {
    const email = uniqueEmail("link");
    const password = `link-${crypto.randomUUID()}`;
    expect((await request("POST", "/api/auth/register", { body: { email, password } })).status).toBe(201);
    const { page, problems } = await personPage(browser);
    await page.goto(`${workerUrl()}/sign-in`);
    await signInWithPassword(page, email, password);
    await expect.poll(() => page.locator('#identities + [data-empty-for="identities"]').isVisible()).toBe(true);

    await page.locator('[data-link-provider="dev"]').click();
    await approveAtDevIdp(page, `linked-${crypto.randomUUID().slice(0, 8)}`);
    await page.waitForURL(`${workerUrl()}/account`);
    await expect.poll(() => page.locator("#identities li").count()).toBe(1);

    await page.locator('#identities li [data-action="unlink"]').click();
    await expect.poll(() => page.locator("#identities li").count()).toBe(0);
    expect(problems).toEqual([]);
    await page.context().close();
  });
});
