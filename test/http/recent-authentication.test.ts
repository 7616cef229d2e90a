import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { RECENT_AUTHENTICATION_SECONDS } from "../../src/account-security/recent-authentication";
import { HASHING_HEAVY, registerUser, type SignedIn, sessionIdOf } from "../support/accounts";
import { auditEvents } from "../support/audit";
import { BASE_URL } from "../support/config";
import { completeStage, saveDataStages } from "../support/onboarding";
import { enableTotp } from "../support/totp";
import { SoftAuthenticator } from "../support/webauthn";
import { request } from "../support/worker";

const RP = { origin: BASE_URL, rpId: new URL(BASE_URL).hostname };

/** Dates the session's last authentication back past the window, as if its token were stolen and used later. */
async function ageAuthentication(account: SignedIn, seconds = RECENT_AUTHENTICATION_SECONDS + 1) {
  await env.DB.prepare("UPDATE sessions SET authenticated_at = ? WHERE id = ?")
    .bind(Date.now() - seconds * 1000, sessionIdOf(account))
    .run();
}

/** Every request that plants or removes a way into the account, as a stolen token would send it. */
const PLANTING: readonly [method: string, path: string, body?: unknown][] = [
  ["POST", "/api/auth/passkeys/register/options"],
  ["POST", "/api/auth/passkeys/register/verify", { challengeId: crypto.randomUUID(), response: {} }],
  ["DELETE", "/api/auth/passkeys/some-passkey"],
  ["POST", "/api/auth/mfa/totp/enroll"],
  ["POST", "/api/auth/mfa/totp/confirm", { code: "123456" }],
  ["POST", "/api/auth/mfa/totp/disable", { code: "123456" }],
  ["POST", "/api/auth/api-keys", { description: "planted" }],
  ["POST", "/api/provider/link", { provider: "oidc", redirectTo: "https://app.heady.test/signed-in" }],
  ["DELETE", `/api/provider/identities/${crypto.randomUUID()}`],
];

describe("a way in needs a recent sign-in", () => {
  it("a session authenticated more than 10 minutes ago plants nothing, with the cookie or the access token", HASHING_HEAVY, async () => {
    const account = await registerUser();
    await ageAuthentication(account);
    for (const [method, path, body] of PLANTING) {
      for (const credential of [{ token: account.accessToken }, { cookie: account.cookie, headers: { Origin: BASE_URL } }]) {
        const response = await request(method, path, { ...credential, body });
        expect(response.status, `${method} ${path}`).toBe(401);
        expect(response.body.error.code).toBe("reauthentication_required");
        expect(response.headers.get("WWW-Authenticate")).toBe(
          `Bearer error="insufficient_user_authentication", error_description="A recent sign-in is required", max_age=${RECENT_AUTHENTICATION_SECONDS}`,
        );
      }
    }
    // Nothing was planted, and reading still works.
    expect((await request("GET", "/api/auth/api-keys", { token: account.accessToken })).body.keys).toEqual([]);
    expect((await request("GET", "/api/auth/mfa", { token: account.accessToken })).body.totp).toBe(false);
  });

  it("a fresh sign-in may, and so may a session re-authenticated with its password", HASHING_HEAVY, async () => {
    const account = await registerUser();
    expect((await request("POST", "/api/auth/api-keys", { token: account.accessToken, body: { description: "fresh" } })).status).toBe(201);

    await ageAuthentication(account);
    expect((await request("POST", "/api/auth/api-keys", { token: account.accessToken, body: { description: "automation" } })).status).toBe(
      401,
    );
    const wrong = await request("POST", "/api/auth/reauthenticate", { token: account.accessToken, body: { password: "not the password" } });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe("invalid_credentials");
    expect((await request("POST", "/api/auth/api-keys", { token: account.accessToken, body: { description: "automation" } })).status).toBe(
      401,
    );

    const confirmed = await request("POST", "/api/auth/reauthenticate", {
      token: account.accessToken,
      body: { password: account.password },
    });
    expect(confirmed.status, confirmed.text).toBe(200);
    expect(Date.parse(confirmed.body.recentUntil) - Date.parse(confirmed.body.authenticatedAt)).toBe(RECENT_AUTHENTICATION_SECONDS * 1000);
    expect((await request("POST", "/api/auth/api-keys", { token: account.accessToken, body: { description: "automation" } })).status).toBe(
      201,
    );
    expect(await auditEvents({ subject: account.userId, type: "reauthentication.failed" })).toHaveLength(1);
    expect(await auditEvents({ subject: account.userId, type: "session.reauthenticated" })).toHaveLength(1);
  });

  it("re-authentication is per session: another session of the same person stays stale", HASHING_HEAVY, async () => {
    const account = await registerUser();
    const other = await request("POST", "/api/auth/login", { body: { email: account.email, password: account.password } });
    await ageAuthentication(account);
    await env.DB.prepare("UPDATE sessions SET authenticated_at = 0 WHERE user_id = ?").bind(account.userId).run();
    expect(
      (await request("POST", "/api/auth/reauthenticate", { token: account.accessToken, body: { password: account.password } })).status,
    ).toBe(200);
    const fromOther = await request("POST", "/api/auth/mfa/totp/enroll", { token: other.body.accessToken });
    expect(fromOther.body.error.code).toBe("reauthentication_required");
    expect((await request("POST", "/api/auth/mfa/totp/enroll", { token: account.accessToken })).status).toBe(200);
  });

  it("an authenticator code re-authenticates, once per code", HASHING_HEAVY, async () => {
    const account = await registerUser();
    const { authenticator } = await enableTotp(account.accessToken);
    await ageAuthentication(account);
    const code = await authenticator.code();
    expect((await request("POST", "/api/auth/reauthenticate", { token: account.accessToken, body: { code } })).status).toBe(200);
    // The same code again is a replay.
    await ageAuthentication(account);
    expect((await request("POST", "/api/auth/reauthenticate", { token: account.accessToken, body: { code } })).status).toBe(401);
  });

  it("a passkey of the caller's own re-authenticates; another account's does not", HASHING_HEAVY, async () => {
    const account = await registerUser();
    const authenticator = new SoftAuthenticator(RP);
    const started = await request("POST", "/api/auth/passkeys/register/options", { token: account.accessToken });
    const response = await authenticator.register(started.body.options);
    expect(
      (
        await request("POST", "/api/auth/passkeys/register/verify", {
          token: account.accessToken,
          body: { challengeId: started.body.challengeId, response },
        })
      ).status,
    ).toBe(201);
    const stranger = await registerUser();
    await ageAuthentication(account);
    await ageAuthentication(stranger);

    // The stranger cannot ask for options with a passkey that is not theirs, nor use this account's assertion.
    expect((await request("POST", "/api/auth/reauthenticate/passkey/options", { token: stranger.accessToken })).status).toBe(400);
    const options = await request("POST", "/api/auth/reauthenticate/passkey/options", { token: account.accessToken });
    expect(options.status).toBe(200);
    const assertion = await authenticator.assert(options.body.options);
    const misused = await request("POST", "/api/auth/reauthenticate/passkey", {
      token: stranger.accessToken,
      body: { challengeId: options.body.challengeId, response: assertion },
    });
    expect(misused.status).toBe(401);

    const again = await request("POST", "/api/auth/reauthenticate/passkey/options", { token: account.accessToken });
    const confirmed = await request("POST", "/api/auth/reauthenticate/passkey", {
      token: account.accessToken,
      body: { challengeId: again.body.challengeId, response: await authenticator.assert(again.body.options) },
    });
    expect(confirmed.status, confirmed.text).toBe(200);
    expect((await request("POST", "/api/auth/mfa/totp/enroll", { token: account.accessToken })).status).toBe(200);
  });

  it("revoking an API key stays one step away (it closes a way in)", HASHING_HEAVY, async () => {
    const account = await registerUser();
    const created = await request("POST", "/api/auth/api-keys", { token: account.accessToken, body: { description: "automation" } });
    await ageAuthentication(account);
    expect((await request("DELETE", `/api/auth/api-keys/${created.body.id}`, { token: account.accessToken })).status).toBe(204);
  });

  it("changing the password counts as re-authentication for this session", HASHING_HEAVY, async () => {
    const account = await registerUser();
    await ageAuthentication(account);
    const changed = await request("POST", "/api/auth/password/change", {
      token: account.accessToken,
      body: { currentPassword: account.password, newPassword: `${account.password}-changed` },
    });
    expect(changed.status, changed.text).toBe(204);
    expect((await request("POST", "/api/auth/mfa/totp/enroll", { token: account.accessToken })).status).toBe(200);
  });

  it("onboarding completion, which mints a key, needs a recent sign-in too", HASHING_HEAVY, async () => {
    const account = await registerUser();
    await saveDataStages(account);
    await ageAuthentication(account);
    const completed = await completeStage(account, { stage: "completion", data: {} });
    expect(completed.status).toBe(401);
    expect(completed.body.error.code).toBe("reauthentication_required");
    expect(completed.body.apiKey).toBeUndefined();
  });
});
