import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../support/e2e/browser";
import { baseUrl, request } from "../support/e2e/client";

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => browser?.close());

describe("the docs page in real Chromium", () => {
  it("renders every operation of /openapi.json, under its CSP, with no console errors", async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(message.text());
    });
    page.on("pageerror", (error) => problems.push(String(error)));

    const response = await page.goto(`${baseUrl()}/docs`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()["content-security-policy"]).toContain("default-src 'none'");

    const doc = (await request("GET", "/openapi.json")).body as { info: { title: string }; paths: Record<string, Record<string, unknown>> };
    const operations = Object.values(doc.paths).reduce((count, methods) => count + Object.keys(methods).length, 0);
    await expect.poll(() => page.locator("section.operation").count()).toBe(operations);
    expect(await page.locator("#title").textContent()).toContain(doc.info.title);
    expect(await page.locator("code", { hasText: "/api/auth/request-pqc-token" }).count()).toBe(1);

    // Schemas open on demand.
    const login = page.locator("section.operation", { has: page.locator("code", { hasText: /^\/api\/auth\/login$/ }) });
    await login.locator("details summary", { hasText: "Request body" }).click();
    await expect.poll(() => login.locator("pre").first().textContent()).toContain('"password"');
    expect(problems).toEqual([]);
    await page.close();
  });
});
