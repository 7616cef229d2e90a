import type { Browser, CDPSession, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../support/e2e/browser";
import { request } from "../support/e2e/client";
import { personPage, signInWithPassword, unexpected, workerUrl } from "../support/e2e/pages";
import { uniqueEmail } from "../support/fresh";

/**
 * Passkeys end to end in real Chromium, with a CDP virtual authenticator (CTAP2, internal, resident
 * keys, user verification): register on the account page, sign out, sign in with the passkey on the
 * sign-in page. The page is on localhost, which is the RP ID (PUBLIC_URL's host) and a secure context.
 */

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => browser?.close());

async function virtualAuthenticator(page: Page): Promise<{ cdp: CDPSession; authenticatorId: string }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { cdp, authenticatorId };
}

describe("passkeys in real Chromium with a virtual authenticator", () => {
  it("registers a passkey, signs out, and signs in with it", async () => {
    const email = uniqueEmail("passkey");
    const password = `pass-${crypto.randomUUID()}`;
    expect((await request("POST", "/api/auth/register", { body: { email, password } })).status).toBe(201);

    const { page, problems } = await personPage(browser);
    const { cdp, authenticatorId } = await virtualAuthenticator(page);

    // Signed out, the account page sends the browser to sign in, and back afterwards.
    await page.goto(`${workerUrl()}/account`);
    await page.waitForURL(`${workerUrl()}/sign-in?return=%2Faccount`);
    await signInWithPassword(page, email, password);
    await expect.poll(() => page.locator("#status").textContent()).toBe(`Signed in as ${email}`);
    const userId = await page.locator("#status").getAttribute("data-signed-in");

    await page.locator("#add-passkey").click();
    await expect.poll(() => page.locator("#passkeys li").count()).toBe(1);
    const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
    expect(credentials).toHaveLength(1);
    expect(credentials[0]!.isResidentCredential).toBe(true);
    expect(credentials[0]!.rpId).toBe("localhost");

    await page.locator("#sign-out").click();
    await page.waitForURL(`${workerUrl()}/sign-in`);
    expect((await page.context().cookies(workerUrl())).some((cookie) => cookie.name === "__Host-heady_session")).toBe(false);

    await page.locator("#passkey-sign-in").click();
    await page.waitForURL(`${workerUrl()}/account`);
    await expect.poll(() => page.locator("#status").textContent()).toBe(`Signed in as ${email}`);
    expect(await page.locator("#status").getAttribute("data-signed-in")).toBe(userId);
    // The assertion raised the authenticator's counter, and the server kept it.
    const after = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
    expect(after.credentials[0]!.signCount).toBeGreaterThan(0);
    expect(unexpected(problems, 401)).toEqual([]);
    await page.context().close();
  });
});
