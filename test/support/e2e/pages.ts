import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { inject } from "vitest";
import { randomIp } from "../fresh";

/**
 * The Worker as browsers reach it in these tests: localhost, a secure context (so `__Host-` cookies
 * work over http), PUBLIC_URL's host and the passkeys' RP ID.
 */
export const workerUrl = () => `http://localhost:${new URL(inject("baseUrl")).port}`;

export interface PersonPage {
  context: BrowserContext;
  page: Page;
  /** Console errors, uncaught exceptions and CSP violations, as they happen. */
  problems: string[];
}

/**
 * A fresh browser profile and page, with its own client address (wrangler dev takes CF-Connecting-IP
 * as given), so one test's login failures never lock another out. CSP violations are recorded by a
 * listener installed before any page script runs; console errors and uncaught exceptions too.
 */
export async function personPage(browser: Browser, options: { viewport?: { width: number; height: number } } = {}): Promise<PersonPage> {
  const context = await browser.newContext({ extraHTTPHeaders: { "CF-Connecting-IP": randomIp() }, viewport: options.viewport ?? DESKTOP });
  const page = await context.newPage();
  const problems: string[] = [];
  // Only our pages' problems: a provider's login page is not ours to judge.
  const ours = (url: string) => url.startsWith(workerUrl());
  await page.exposeFunction("__reportCspViolation", (documentUrl: string, text: string) => {
    if (ours(documentUrl)) problems.push(`CSP: ${text}`);
  });
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (event) => {
      const report = (window as unknown as { __reportCspViolation(url: string, text: string): void }).__reportCspViolation;
      report(location.href, `${event.violatedDirective} blocked ${event.blockedURI || "inline"}`);
    });
  });
  page.on("console", (message) => {
    if (message.type() === "error" && ours(page.url())) problems.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => {
    if (ours(page.url())) problems.push(`page: ${error}`);
  });
  return { context, page, problems };
}

/**
 * The problems left once the API answers a test provoked on purpose are taken out: Chromium logs
 * every fetch answered with an error status as a console error ("…status of 401…").
 */
export function unexpected(problems: readonly string[], ...statuses: number[]): string[] {
  return problems.filter((problem) => !statuses.some((status) => problem.includes(`status of ${status} `)));
}

export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 390, height: 844 };

/** Where the test run writes the screenshots docs/pages.md shows. */
const SCREENSHOTS = join(import.meta.dirname, "../../../docs/screenshots");

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Signs in through the hosted form; resolves once the browser is on `landing`. */
export async function signInWithPassword(page: Page, email: string, password: string, landing = "/account"): Promise<void> {
  await page.locator("#email").fill(email);
  await page.locator("#password").fill(password);
  await page.locator("#sign-in button[type=submit]").click();
  await page.waitForURL(`${workerUrl()}${landing}`);
}
