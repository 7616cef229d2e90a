import { spawnSync } from "node:child_process";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { launchChromium } from "../support/e2e/browser";
import { request } from "../support/e2e/client";
import { personPage, screenshot, signInWithPassword, unexpected, workerUrl } from "../support/e2e/pages";
import { uniqueEmail } from "../support/fresh";
import { authenticatorFor } from "../support/otp-codes";

/**
 * The sign-in, register and account pages in real Chromium through wrangler dev, used as a person
 * would: typing into the forms, reading what the page says.
 */
let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => browser?.close());

async function registered(label: string) {
  const email = uniqueEmail(label);
  const password = `pages-${crypto.randomUUID()}`;
  const response = await request("POST", "/api/auth/register", { body: { email, password } });
  expect(response.status).toBe(201);
  return { email, password, accessToken: response.body.accessToken as string };
}

const sessionCookieIn = async (page: import("playwright-core").Page) =>
  (await page.context().cookies(workerUrl())).find((cookie) => cookie.name === "__Host-heady_session");

describe("sign in and sign out", () => {
  it("signs in with the form, lands on the account page, signs out, and the account page asks to sign in again", async () => {
    const account = await registered("signin");
    const { page, problems } = await personPage(browser);
    await page.goto(`${workerUrl()}/`);
    await signInWithPassword(page, account.email, account.password);
    await expect.poll(() => page.locator("#status").textContent()).toBe(`Signed in as ${account.email}`);
    await expect.poll(() => page.locator('[data-profile="role"]').textContent()).toBe("user");
    expect(await sessionCookieIn(page)).toMatchObject({ httpOnly: true, secure: true, sameSite: "Strict" });
    // Nothing of the session is kept where scripts could read it.
    expect(await page.evaluate(() => [localStorage.length, sessionStorage.length, document.cookie])).toEqual([0, 0, ""]);

    await page.locator("#sign-out").click();
    await page.waitForURL(`${workerUrl()}/sign-in`);
    expect(await sessionCookieIn(page)).toBeUndefined();
    await page.goto(`${workerUrl()}/account`);
    await page.waitForURL(`${workerUrl()}/sign-in?return=%2Faccount`);
    expect(unexpected(problems, 401)).toEqual([]);
    await page.context().close();
  });

  it("says a wrong password is wrong, then the lockout and its wait after repeated failures", async () => {
    const account = await registered("lockout");
    const { page, problems } = await personPage(browser);
    await page.goto(`${workerUrl()}/sign-in`);
    const message = page.locator("#sign-in .status");
    await page.locator("#email").fill(account.email);
    // The lockout is 5 failures per account and client address in 15 minutes (docs/api.md, "Login throttling").
    for (let attempt = 1; attempt <= 5; attempt++) {
      await page.locator("#password").fill(`wrong-${attempt}-${crypto.randomUUID()}`);
      await page.locator("#sign-in button[type=submit]").click();
      await expect.poll(() => message.textContent()).toBe("Email or password is incorrect.");
      await message.evaluate((element) => {
        element.textContent = "";
      });
    }
    await page.locator("#password").fill(account.password);
    await page.locator("#sign-in button[type=submit]").click();
    await expect.poll(() => message.textContent()).toMatch(/^Too many attempts\. Try again in \d+ minutes?\.$/);
    const minutes = Number(/in (\d+) minute/.exec((await message.textContent()) ?? "")![1]);
    expect(minutes).toBeGreaterThanOrEqual(1);
    expect(minutes).toBeLessThanOrEqual(15);
    expect(await message.getAttribute("data-kind")).toBe("error");
    expect(page.url()).toBe(`${workerUrl()}/sign-in`);
    await screenshot(page, "sign-in-lockout");
    // The refusals are answers the page expected: Chromium logs a failed fetch (401, 429) as a console error.
    expect(unexpected(problems, 401, 429)).toEqual([]);
    await page.context().close();
  });

  it("asks for the TOTP code when the account has one, and signs in with it", async () => {
    const account = await registered("mfa");
    const enrolled = await request("POST", "/api/auth/mfa/totp/enroll", { token: account.accessToken });
    const authenticator = authenticatorFor(enrolled.body.otpauthUri);
    expect(
      (await request("POST", "/api/auth/mfa/totp/confirm", { token: account.accessToken, body: { code: await authenticator.code(-1) } }))
        .status,
    ).toBe(200);

    const { page, problems } = await personPage(browser);
    await page.goto(`${workerUrl()}/sign-in?return=%2Fonboarding`);
    await page.locator("#email").fill(account.email);
    await page.locator("#password").fill(account.password);
    await page.locator("#sign-in button[type=submit]").click();
    await expect.poll(() => page.locator("#mfa").isVisible()).toBe(true);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("code");
    expect(await sessionCookieIn(page)).toBeUndefined();
    await screenshot(page, "sign-in-mfa");

    await page.locator("#code").fill("000000" === (await authenticator.code()) ? "111111" : "000000");
    await page.locator("#mfa button[type=submit]").click();
    await expect.poll(() => page.locator("#mfa .status").textContent()).toBe("The second factor is incorrect or was already used.");
    await page.locator("#code").fill(await authenticator.code());
    await page.locator("#mfa button[type=submit]").click();
    // Back to where sign-in was asked from.
    await page.waitForURL(`${workerUrl()}/onboarding`);
    expect(await sessionCookieIn(page)).toBeDefined();
    expect(unexpected(problems, 401)).toEqual([]);
    await page.context().close();
  });
});

describe("register", () => {
  it("refuses a common password with the API's reason, then creates the account and goes on to onboarding", async () => {
    const email = uniqueEmail("register");
    const { page, problems } = await personPage(browser);
    await page.goto(`${workerUrl()}/register`);
    const message = page.locator("#register .status");
    await page.locator("#email").fill(email);
    await page.locator("#password").fill("password1");
    await page.locator("#confirm").fill("password2");
    await page.locator("#register button[type=submit]").click();
    await expect.poll(() => message.textContent()).toBe("The two passwords do not match.");

    await page.locator("#confirm").fill("password1");
    await page.locator("#register button[type=submit]").click();
    await expect
      .poll(() => message.textContent())
      .toBe("Choose another password. This password is among the most commonly used passwords; choose another.");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("password");
    await screenshot(page, "register-refused");

    const password = `fresh-${crypto.randomUUID()}`;
    await page.locator("#password").fill(password);
    await page.locator("#confirm").fill(password);
    await page.locator("#register button[type=submit]").click();
    await page.waitForURL(`${workerUrl()}/onboarding`);
    expect((await request("POST", "/api/auth/login", { body: { email, password } })).status).toBe(200);
    expect(unexpected(problems, 400)).toEqual([]);
    await page.context().close();
  });
});

describe("the account page", () => {
  it("creates an API key shown once with a copy button, lists it with its prefix, and revokes it", async () => {
    const account = await registered("keys");
    const { page, context, problems } = await personPage(browser);
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: workerUrl() });
    await page.goto(`${workerUrl()}/sign-in`);
    await signInWithPassword(page, account.email, account.password);

    await page.locator("#key-description").fill("laptop scripts");
    await page.locator("#create-key button[type=submit]").click();
    await expect.poll(() => page.locator("#new-key").textContent()).toMatch(/^hdy_/);
    const key = (await page.locator("#new-key").textContent())!;
    expect(await page.locator("#new-key-box .warning").textContent()).toBe(
      "This key is shown once. Store it securely; it cannot be shown again.",
    );
    await page.locator('#new-key-box [data-copy="new-key"]').click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(key);

    const row = page.locator("#keys li");
    await expect.poll(() => row.count()).toBe(1);
    const prefix = (await row.locator('[data-field="prefix"]').textContent())!.replace(/…$/, "");
    expect(prefix.length).toBeGreaterThanOrEqual(8);
    expect(key.startsWith(prefix) && key.length > prefix.length).toBe(true);
    expect(await row.locator('[data-field="lastUsed"]').textContent()).toBe("last used never");
    expect((await request("GET", "/api/auth/verify", { headers: { "X-API-Key": key } })).status).toBe(200);

    // A reload shows the list, never the key again.
    await page.reload();
    await expect.poll(() => page.locator("#keys li").count()).toBe(1);
    expect(await page.locator("#new-key-box").isVisible()).toBe(false);
    expect(await page.content()).not.toContain(key);

    await page.locator('#keys li [data-action="revoke"]').click();
    await expect.poll(() => page.locator("#keys li").getAttribute("data-state")).toBe("revoked");
    expect((await request("GET", "/api/auth/verify", { headers: { "X-API-Key": key } })).status).toBe(401);
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it("lists the sessions, signs out of another one and of all others, and an ended session goes back to sign-in", async () => {
    const account = await registered("sessions");
    const { page, problems } = await personPage(browser);
    await page.goto(`${workerUrl()}/sign-in`);
    await signInWithPassword(page, account.email, account.password);
    // The API registration made one session, this browser another, and one more elsewhere.
    const elsewhere = await request("POST", "/api/auth/login", { body: { email: account.email, password: account.password } });
    await page.reload();
    await expect.poll(() => page.locator("#sessions li").count()).toBe(3);
    expect(await page.locator('#sessions li[data-current="true"]').count()).toBe(1);

    await page.locator('#sessions li:not([data-current]) [data-action="end"]').first().click();
    await expect.poll(() => page.locator("#sessions li").count()).toBe(2);
    await page.locator("#sign-out-others").click();
    await expect.poll(() => page.locator("#sessions li").count()).toBe(1);
    expect(await page.locator("#sessions-card-status").textContent()).toMatch(/^Signed out of 1 other session/);
    expect((await request("GET", "/api/auth/me", { token: elsewhere.body.accessToken })).status).toBe(401);
    await screenshot(page, "account");

    // This browser's session ends elsewhere: the next thing the page asks the API sends it to sign in.
    const again = await request("POST", "/api/auth/login", { body: { email: account.email, password: account.password } });
    const sessions = (await request("GET", "/api/auth/sessions", { token: again.body.accessToken })).body.sessions as {
      id: string;
      current: boolean;
    }[];
    for (const session of sessions.filter((session) => !session.current)) {
      expect((await request("DELETE", `/api/auth/sessions/${session.id}`, { token: again.body.accessToken })).status).toBe(204);
    }
    await page.locator("#key-description").fill("too late");
    await page.locator("#create-key button[type=submit]").click();
    await page.waitForURL(`${workerUrl()}/sign-in?return=%2Faccount`);
    expect(unexpected(problems, 401)).toEqual([]);
    await page.context().close();
  });

  it("turns TOTP on with a code, shows the recovery codes once, and off again", async () => {
    const account = await registered("totp-page");
    const { page, problems } = await personPage(browser);
    await page.goto(`${workerUrl()}/sign-in`);
    await signInWithPassword(page, account.email, account.password);
    await expect.poll(() => page.locator("#mfa-state").textContent()).toBe("Off.");
    await page.locator("#totp-enroll").click();
    await expect.poll(() => page.locator("#totp-uri").textContent()).toMatch(/^otpauth:\/\/totp\//);
    const authenticator = authenticatorFor((await page.locator("#totp-uri").textContent())!);
    await page.locator("#totp-confirm-code").fill(await authenticator.code(-1));
    await page.locator("#totp-confirm button[type=submit]").click();
    await expect.poll(() => page.locator("#mfa").getAttribute("data-totp")).toBe("true");
    expect((await page.locator("#recovery-codes").textContent())!.split(/\s+/)).toHaveLength(10);

    await page.locator("#totp-disable-code").fill(await authenticator.code());
    await page.locator("#totp-disable button[type=submit]").click();
    await expect.poll(() => page.locator("#mfa").getAttribute("data-totp")).toBe("false");
    expect(
      (await request("POST", "/api/auth/login", { body: { email: account.email, password: account.password } })).body.mfaRequired,
    ).toBeUndefined();
    expect(problems).toEqual([]);
    await page.context().close();
  });
});

/** Dates every session of the account as authenticated 11 minutes ago, in wrangler dev's own D1 file. */
function ageAuthentication(email: string): void {
  const write = spawnSync(
    "npx",
    [
      "wrangler",
      "d1",
      "execute",
      "DB",
      "--local",
      "--persist-to",
      inject("stateDir"),
      "--command",
      `UPDATE sessions SET authenticated_at = ${Date.now() - 11 * 60_000} WHERE user_id = (SELECT id FROM users WHERE email = '${email}')`,
    ],
    { encoding: "utf8", env: { ...process.env, CI: "1" } },
  );
  expect(write.status, write.stderr).toBe(0);
}

/** Signs a new account in on the account page, lets 11 minutes pass, and asks for a key: the dialog is open. */
async function createKeyAfterAWhile(label: string) {
  const account = await registered(label);
  const { page, problems } = await personPage(browser);
  await page.goto(`${workerUrl()}/sign-in`);
  await signInWithPassword(page, account.email, account.password);
  ageAuthentication(account.email);
  await page.locator("#key-description").fill(label);
  await page.locator("#create-key button[type=submit]").click();
  const dialog = page.getByRole("dialog", { name: "Confirm it's you" });
  await expect.poll(() => dialog.isVisible()).toBe(true);
  return { account, page, problems, dialog };
}

describe("a change that needs a recent sign-in", () => {
  it("asks the person to confirm it's you in a dialog, then makes the change", { timeout: 90_000 }, async () => {
    const { account, page, problems, dialog } = await createKeyAfterAWhile("confirm");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("confirm-secret");

    await page.locator("#confirm-secret").fill("not the password");
    await dialog.getByRole("button", { name: "Confirm" }).click();
    await expect.poll(() => dialog.locator(".status").textContent()).toBe("That did not match. Try again.");
    await page.locator("#confirm-secret").fill(account.password);
    await dialog.getByRole("button", { name: "Confirm" }).click();
    await expect.poll(() => page.locator("#new-key").textContent()).toMatch(/^hdy_/);
    expect(await dialog.count()).toBe(0);
    // The first attempt and the wrong password were answers the page expected.
    expect(unexpected(problems, 401)).toEqual([]);
    await page.context().close();
  });

  it("cancelling the dialog changes nothing and says why", { timeout: 90_000 }, async () => {
    const { account, page, problems, dialog } = await createKeyAfterAWhile("cancel");
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await expect.poll(() => page.locator("#create-key .status").textContent()).toMatch(/^Confirm it's you/);
    expect((await request("GET", "/api/auth/api-keys", { token: account.accessToken })).body.keys).toEqual([]);
    expect(unexpected(problems, 401)).toEqual([]);
    await page.context().close();
  });
});
