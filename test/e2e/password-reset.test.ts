import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../support/e2e/browser";
import { baseUrl, request } from "../support/e2e/client";
import { uniqueEmail } from "../support/fresh";

/**
 * Password reset end to end: the request, the mail in the dev outbox, the link opened in real
 * Chromium, the new password typed into the hosted page; then every old session is gone.
 */
let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => browser?.close());

async function resetLink(email: string): Promise<string> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const outbox = await request("GET", `/api/dev/outbox?to=${encodeURIComponent(email)}`);
    expect(outbox.status).toBe(200);
    const mail = outbox.body.messages.find((message: { subject: string }) => message.subject === "Reset your password");
    if (mail) return /https?:\/\/\S+#token=[A-Za-z0-9_-]+/.exec(mail.text)![0];
    if (Date.now() > deadline) throw new Error("no reset mail arrived");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("password reset through the dev outbox, in real Chromium", () => {
  it("request it, read the mail, follow the link, set a password: the old sessions are gone", async () => {
    const email = uniqueEmail("reset");
    const password = `old-${crypto.randomUUID()}`;
    const registered = await request("POST", "/api/auth/register", { body: { email, password } });
    expect(registered.status).toBe(201);
    const second = await request("POST", "/api/auth/login", { body: { email, password } });
    expect(second.status).toBe(200);
    for (const session of [registered.body, second.body])
      expect((await request("GET", "/api/auth/me", { token: session.accessToken })).status).toBe(200);

    expect((await request("POST", "/api/auth/password/forgot", { body: { email } })).status).toBe(202);
    const link = await resetLink(email);
    expect(new URL(link).origin).toBe(new URL(baseUrl()).origin.replace("127.0.0.1", "localhost"));

    const page = await (await browser.newContext()).newPage();
    const problems: string[] = [];
    page.on("pageerror", (error) => problems.push(String(error)));
    await page.goto(link);
    // The token left the address bar before anything else happened.
    expect(page.url()).not.toContain("token=");
    const newPassword = `new-${crypto.randomUUID()}`;
    await page.locator("#password").fill(newPassword);
    await page.locator("button[type=submit]").click();
    await expect.poll(() => page.locator("#status").getAttribute("data-done")).toBe("true");
    expect(problems).toEqual([]);

    for (const session of [registered.body, second.body]) {
      expect((await request("GET", "/api/auth/me", { token: session.accessToken })).status).toBe(401);
      expect((await request("POST", "/api/auth/refresh", { body: { refreshToken: session.refreshToken } })).status).toBe(401);
    }
    expect((await request("POST", "/api/auth/login", { body: { email, password } })).status).toBe(401);
    expect((await request("POST", "/api/auth/login", { body: { email, password: newPassword } })).status).toBe(200);
    await page.context().close();
  });
});
