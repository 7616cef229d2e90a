import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { auditEvents, registerUser, request, uniqueEmail, updateUser, type ApiResponse } from "../helpers/identity";
import { mailedToken, VERIFY_SUBJECT } from "../helpers/mail";
import { approveAtProvider, newBrowser, returnToCallback, signInWith, startSignIn, type Browser } from "../helpers/providers";

/**
 * Issue 22, items 4-7: provider sign-in must not be a way around sign-out, the second factor, the
 * owner's proof of their address, or a disabled account. Real loopback IdP (test/providers/fake-idp.ts).
 */

/** A fresh provider user: a unique subject and email. */
function providerUser(overrides: Record<string, string> = {}) {
  return { sub: String(Math.floor(Math.random() * 1e12)), email: uniqueEmail("idp"), email_verified: "true", ...overrides };
}

/** The identities linked to an account, read from D1 (the caller's token may be dead by then). */
async function identitiesOf(userId: string): Promise<{ provider: string; subject: string }[]> {
  const { results } = await env.DB.prepare("SELECT provider, subject FROM user_identities WHERE user_id = ?").bind(userId).all<{ provider: string; subject: string }>();
  return results;
}

async function failureReasons(browser: Browser): Promise<unknown[]> {
  return (await auditEvents({ type: "provider.login_failed", ip: browser.ip })).map((event) => event.details.reason);
}

function expectRefusal(response: ApiResponse, status: number, code: string) {
  expect(response.status, response.text).toBe(status);
  expect(response.body.error).toMatchObject({ code, requestId: expect.any(String) });
  expect(response.headers.get("location")).toBeNull();
}

describe("a link flow dies with the session that started it (item 4)", () => {
  it("linking started, then sign-out: the callback links nothing, answers 401 and audits why", async () => {
    const owner = await registerUser();
    const browser = newBrowser();
    const user = providerUser();
    // A stolen token starts the link, and the owner signs out (or resets) before the IdP answers.
    const authorization = await startSignIn(browser, "oidc", { path: "/api/provider/link", token: owner.accessToken });
    expect((await request("POST", "/api/auth/logout", { token: owner.accessToken })).status).toBe(204);
    const callback = await returnToCallback(browser, await approveAtProvider(authorization, user));
    expectRefusal(callback, 401, "unauthorized");
    expect(await failureReasons(browser)).toEqual(["link_session_ended"]);
    expect(await identitiesOf(owner.userId)).toEqual([]);
    // The identity did not become anyone's: it signs in to an account of its own.
    expect(await env.DB.prepare("SELECT 1 FROM user_identities WHERE subject = ?").bind(user.sub).first()).toBeNull();
  });

  it("while the session lives, the same flow links", async () => {
    const owner = await registerUser();
    const linked = await signInWith(newBrowser(), "oidc", providerUser(), { path: "/api/provider/link", token: owner.accessToken });
    expect(linked.status, linked.text).toBe(302);
    expect(await identitiesOf(owner.userId)).toHaveLength(1);
  });
});

describe("a disabled account gains nothing from a provider (item 7)", () => {
  it("a provider identity with the account's verified email is refused 403 before it is linked", async () => {
    const owner = await registerUser();
    const verified = await request("POST", "/api/auth/verify-email", { body: { token: await mailedToken(owner.email, VERIFY_SUBJECT) } });
    expect(verified.status).toBe(200);
    await updateUser(owner.userId, { disabled_at: Date.now() });
    const browser = newBrowser();
    expectRefusal(await signInWith(browser, "oidc", providerUser({ email: owner.email })), 403, "forbidden");
    expect(await failureReasons(browser)).toEqual(["disabled"]);
    expect(await identitiesOf(owner.userId)).toEqual([]);
  });
});
