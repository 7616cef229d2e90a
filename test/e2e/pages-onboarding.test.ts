import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../support/e2e/browser";
import { request } from "../support/e2e/client";
import { personPage, screenshot, workerUrl } from "../support/e2e/pages";
import { uniqueEmail } from "../support/fresh";

/**
 * The whole first visit in Chromium: register on /register, the onboarding wizard to its end
 * (with back, and a reload that resumes), the API key shown once with its copy button and warning,
 * then revoked on /account, after which the key no longer verifies.
 */
let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => browser?.close());

const stageShown = (page: Page) => page.locator("#wizard").getAttribute("data-stage");
const next = (page: Page, stage: string) => page.locator(`form[data-stage=${stage}] button[type=submit]`).click();

describe("register, onboarding to the end, the key shown once and revoked on /account", () => {
  it("goes through the five stages and ends with a working key, which the account page revokes", async () => {
    const email = uniqueEmail("wizard");
    const password = `wizard-${crypto.randomUUID()}`;
    const { page, context, problems } = await personPage(browser);
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: workerUrl() });

    await page.goto(`${workerUrl()}/register`);
    await page.locator("#email").fill(email);
    await page.locator("#password").fill(password);
    await page.locator("#confirm").fill(password);
    await page.locator("#register button[type=submit]").click();
    await page.waitForURL(`${workerUrl()}/onboarding`);

    await expect.poll(() => stageShown(page)).toBe("identity");
    expect(await page.locator('#progress li[aria-current="step"]').textContent()).toBe("About you");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("displayName");
    await screenshot(page, "onboarding-desktop");
    await page.locator("#displayName").fill("Ada");
    await page.locator("#locale").fill("en-gb");
    await next(page, "identity");

    await expect.poll(() => stageShown(page)).toBe("interests");
    await page.locator("#tags").fill("Music, rust ,cooking");
    await next(page, "interests");

    // Back shows the stage before, with what was saved; forward again.
    await expect.poll(() => stageShown(page)).toBe("buddy_config");
    await page.locator("form[data-stage=buddy_config] [data-back]").click();
    await expect.poll(() => stageShown(page)).toBe("interests");
    expect(await page.locator("#tags").inputValue()).toBe("Music, rust ,cooking");
    await next(page, "interests");
    await expect.poll(() => stageShown(page)).toBe("buddy_config");

    // A reload (or coming back tomorrow) resumes where the person left off, with the saved answers.
    await page.reload();
    await expect.poll(() => stageShown(page)).toBe("buddy_config");
    expect(await page.locator("#progress li[data-stage=identity]").getAttribute("data-state")).toBe("done");
    expect(await page.locator("#displayName").inputValue()).toBe("Ada");
    expect(await page.locator("#locale").inputValue()).toBe("en-GB");
    expect(await page.locator("#tags").inputValue()).toBe("music, rust, cooking");

    await page.locator("#buddy-name").fill("Pip");
    await page.locator("input[name=tone][value=playful]").check();
    await page.locator("#persona").fill("Cheerful and brief.");
    await next(page, "buddy_config");

    await expect.poll(() => stageShown(page)).toBe("plan");
    await page.locator("input[name=plan][value=pro]").check();
    await next(page, "plan");

    await expect.poll(() => stageShown(page)).toBe("completion");
    await next(page, "completion");

    await expect.poll(() => page.locator("#api-key").textContent()).toMatch(/^hdy_/);
    const key = (await page.locator("#api-key").textContent())!;
    expect(await page.locator("#api-key-box .warning").textContent()).toBe(
      "This key is shown once. Store it securely; it cannot be shown again.",
    );
    await page.locator('#api-key-box [data-copy="api-key"]').click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(key);
    await screenshot(page, "onboarding-key-shown");
    expect((await request("GET", "/api/auth/verify", { headers: { "X-API-Key": key } })).status).toBe(200);

    // Shown once: coming back to the wizard says it is done, and does not show the key.
    await page.reload();
    await expect.poll(() => page.locator("#already-done").isVisible()).toBe(true);
    expect(await page.content()).not.toContain(key);

    await page.locator("#done a.button").click();
    await page.waitForURL(`${workerUrl()}/account`);
    const row = page.locator(`#keys li[data-state=active]`);
    await expect.poll(() => row.count()).toBe(1);
    const prefix = (await row.locator('[data-field="prefix"]').textContent())!.replace(/…$/, "");
    expect(key.startsWith(prefix)).toBe(true);
    await row.locator('[data-action="revoke"]').click();
    await expect.poll(() => page.locator("#keys li[data-state=revoked]").count()).toBe(1);
    expect((await request("GET", "/api/auth/verify", { headers: { "X-API-Key": key } })).status).toBe(401);
    expect(problems).toEqual([]);
    await context.close();
  });
});
