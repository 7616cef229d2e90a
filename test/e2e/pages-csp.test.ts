import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../support/e2e/browser";
import { request } from "../support/e2e/client";
import { DESKTOP, PHONE, personPage, screenshot, signInWithPassword, workerUrl } from "../support/e2e/pages";
import { uniqueEmail } from "../support/fresh";

/**
 * Every hosted page under its real CSP in Chromium: it loads and runs with no CSP violation and no
 * console error, at a desktop and a phone width, every field has a label, and the run writes the
 * screenshots docs/pages.md shows (docs/screenshots/<page>-desktop.png and -phone.png).
 */
let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => browser?.close());

interface PageCase {
  name: string;
  path: string;
  signedIn: boolean;
  /** Resolves once the page's script has done what it does on load. */
  ready(page: Page): Promise<unknown>;
}

const PAGES: PageCase[] = [
  { name: "sign-in", path: "/sign-in", signedIn: false, ready: (page) => page.locator('a.provider[data-provider="dev"]').waitFor() },
  { name: "register", path: "/register", signedIn: false, ready: (page) => page.locator("#register").waitFor() },
  { name: "account", path: "/account", signedIn: true, ready: (page) => page.locator("body[data-loaded=true]").waitFor() },
  { name: "onboarding", path: "/onboarding", signedIn: true, ready: (page) => page.locator("#wizard form[data-stage=identity]").waitFor() },
  { name: "reset-password", path: "/account/reset-password", signedIn: false, ready: (page) => page.locator("#reset").waitFor() },
  {
    name: "verify-email",
    path: "/account/verify-email",
    signedIn: false,
    ready: (page) => page.locator("#status[data-kind=error]").waitFor(),
  },
  { name: "docs", path: "/docs", signedIn: false, ready: (page) => page.locator("section.operation").first().waitFor() },
];

/** Inputs without a label, by id; none is allowed. */
const unlabelled = (page: Page) =>
  page.evaluate(() =>
    [...document.querySelectorAll<HTMLInputElement | HTMLTextAreaElement>("input, textarea, select")]
      .filter((field) => field.type !== "hidden" && (field.labels?.length ?? 0) === 0)
      .map((field) => field.id || field.name),
  );

describe("every hosted page under its CSP, in Chromium", () => {
  it.each(PAGES)("$name ($path) loads with no CSP violation or console error, at desktop and phone widths", async (pageCase) => {
    const email = uniqueEmail(`csp-${pageCase.name}`);
    const password = `csp-${crypto.randomUUID()}`;
    if (pageCase.signedIn) expect((await request("POST", "/api/auth/register", { body: { email, password } })).status).toBe(201);
    for (const [width, viewport] of [
      ["desktop", DESKTOP],
      ["phone", PHONE],
    ] as const) {
      const { page, problems } = await personPage(browser, { viewport });
      if (pageCase.signedIn) {
        await page.goto(`${workerUrl()}/sign-in?return=${encodeURIComponent(pageCase.path)}`);
        await signInWithPassword(page, email, password, pageCase.path);
      } else {
        const response = await page.goto(`${workerUrl()}${pageCase.path}`);
        expect(response?.headers()["content-security-policy"]).toMatch(/script-src 'nonce-[^']+'/);
      }
      await pageCase.ready(page);
      expect(await unlabelled(page)).toEqual([]);
      // Readable on a phone: nothing wider than the screen.
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
      await screenshot(page, `${pageCase.name}-${width}`);
      expect(problems).toEqual([]);
      await page.context().close();
    }
  });

  it("the policy is enforced: a script without the nonce does not run, and the violation is reported", async () => {
    const { page, problems } = await personPage(browser);
    await page.goto(`${workerUrl()}/sign-in`);
    await page.evaluate(() => {
      const script = document.createElement("script");
      script.textContent = "document.body.dataset.injected = 'ran'";
      document.body.append(script);
    });
    await expect.poll(() => problems.some((problem) => problem.startsWith("CSP: script-src"))).toBe(true);
    expect(await page.locator("body").getAttribute("data-injected")).toBeNull();
    await page.context().close();
  });

  it("can be used from the keyboard: skip link first, then the form in order, with a visible focus ring", async () => {
    const { page, problems } = await personPage(browser);
    await page.goto(`${workerUrl()}/sign-in`);
    const focused = () => page.evaluate(() => document.activeElement?.id || document.activeElement?.textContent?.trim());
    await page.keyboard.press("Tab");
    expect(await focused()).toBe("Skip to content");
    await page.keyboard.press("Enter");
    const order: (string | undefined)[] = [];
    for (let i = 0; i < 4; i++) {
      await page.keyboard.press("Tab");
      order.push(await focused());
    }
    expect(order).toEqual(["email", "password", "Sign in", "passkey-sign-in"]);
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
    expect(outline).not.toBe("none");
    expect(problems).toEqual([]);
    await page.context().close();
  });
});
