import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { attemptLogin, registerUser, type SignedIn } from "../support/accounts";
import { auditEvents } from "../support/audit";
import { BASE_URL } from "../support/config";
import { sessionCookie } from "../support/cookies";
import { SoftAuthenticator } from "../support/webauthn";
import { request } from "../support/worker";

const RP = { origin: BASE_URL, rpId: new URL(BASE_URL).hostname };

/** Registers a passkey for the account through the API; answers the authenticator holding it. */
async function addPasskey(account: SignedIn, authenticator = new SoftAuthenticator(RP)) {
  const started = await request("POST", "/api/auth/passkeys/register/options", { token: account.accessToken });
  expect(started.status).toBe(200);
  const response = await authenticator.register(started.body.options);
  const finished = await request("POST", "/api/auth/passkeys/register/verify", {
    token: account.accessToken,
    body: { challengeId: started.body.challengeId, response, name: "Laptop" },
  });
  expect(finished.status, finished.text).toBe(201);
  return authenticator;
}

async function signInOptions() {
  const response = await request("POST", "/api/auth/passkeys/login/options");
  expect(response.status).toBe(200);
  return response.body as { challengeId: string; options: { challenge: string; rpId: string; userVerification: string } };
}

const signIn = (challengeId: string, response: unknown) =>
  request("POST", "/api/auth/passkeys/login/verify", { body: { challengeId, response } });

describe("passkey registration", () => {
  it("takes the RP from config, requires a discoverable credential with user verification, and lists the passkey", async () => {
    const account = await registerUser();
    const started = await request("POST", "/api/auth/passkeys/register/options", { token: account.accessToken });
    expect(started.body.options.rp).toEqual({ name: "HeadyKey", id: "id.heady.test" });
    expect(started.body.options.authenticatorSelection).toMatchObject({ residentKey: "required", userVerification: "required" });
    await addPasskey(account);
    const list = await request("GET", "/api/auth/passkeys", { token: account.accessToken });
    expect(list.body.passkeys).toHaveLength(1);
    expect(list.body.passkeys[0]).toMatchObject({ name: "Laptop", lastUsedAt: null });
    expect(await auditEvents({ subject: account.userId, type: "passkey.added" })).toHaveLength(1);
  });

  it("refuses a response from another origin, for another RP ID, or without user verification", async () => {
    const account = await registerUser();
    for (const authenticator of [
      new SoftAuthenticator({ ...RP, origin: "https://evil.example" }),
      new SoftAuthenticator({ ...RP, rpId: "evil.example" }),
      new SoftAuthenticator({ ...RP, userVerified: false }),
    ]) {
      const started = await request("POST", "/api/auth/passkeys/register/options", { token: account.accessToken });
      const response = await request("POST", "/api/auth/passkeys/register/verify", {
        token: account.accessToken,
        body: { challengeId: started.body.challengeId, response: await authenticator.register(started.body.options) },
      });
      expect(response.status).toBe(400);
    }
    expect((await request("GET", "/api/auth/passkeys", { token: account.accessToken })).body.passkeys).toEqual([]);
  });

  it("a registration challenge works once and only for its user, and someone else's attempt does not use it up", async () => {
    const account = await registerUser();
    const other = await registerUser();
    const started = await request("POST", "/api/auth/passkeys/register/options", { token: account.accessToken });
    const response = await new SoftAuthenticator(RP).register(started.body.options);
    const verify = (as: SignedIn) =>
      request("POST", "/api/auth/passkeys/register/verify", {
        token: as.accessToken,
        body: { challengeId: started.body.challengeId, response },
      });
    const stolen = await verify(other);
    expect(stolen.status).toBe(400);
    expect(stolen.body.error.code).toBe("invalid_request");
    expect((await request("GET", "/api/auth/passkeys", { token: other.accessToken })).body.passkeys).toEqual([]);
    const own = await verify(account);
    expect(own.status, own.text).toBe(201);
    expect((await verify(account)).status).toBe(400);
  });
});

describe("passkey as the first factor", () => {
  it("signs in with user verification required, and no password", async () => {
    const account = await registerUser();
    const authenticator = await addPasskey(account);
    const { challengeId, options } = await signInOptions();
    expect(options.userVerification).toBe("required");
    expect(options.rpId).toBe("id.heady.test");
    const response = await signIn(challengeId, await authenticator.assert(options));
    expect(response.status, response.text).toBe(200);
    expect(response.body.user.id).toBe(account.userId);
    expect(sessionCookie(response.headers).value).toBeTruthy();
    const [event] = await auditEvents({ subject: account.userId, type: "login.succeeded" }, { atLeast: 1 });
    expect(event).toBeDefined();
  });

  it("refuses an assertion without user verification", async () => {
    const account = await registerUser();
    const authenticator = await addPasskey(account);
    authenticator.stopVerifyingUser();
    const { challengeId, options } = await signInOptions();
    expect((await signIn(challengeId, await authenticator.assert(options))).status).toBe(401);
  });

  it("refuses a signature counter that does not rise (a cloned authenticator)", async () => {
    const account = await registerUser();
    const authenticator = await addPasskey(account);
    const first = await signInOptions();
    expect((await signIn(first.challengeId, await authenticator.assert(first.options, { counter: 5 }))).status).toBe(200);
    const second = await signInOptions();
    expect((await signIn(second.challengeId, await authenticator.assert(second.options, { counter: 5 }))).status).toBe(401);
    const third = await signInOptions();
    expect((await signIn(third.challengeId, await authenticator.assert(third.options, { counter: 3 }))).status).toBe(401);
    const row = await env.DB.prepare("SELECT counter FROM passkeys WHERE id = ?").bind(authenticator.id).first<{ counter: number }>();
    expect(row!.counter).toBe(5);
  });

  it("a sign-in challenge works once", async () => {
    const account = await registerUser();
    const authenticator = await addPasskey(account);
    const { challengeId, options } = await signInOptions();
    expect((await signIn(challengeId, await authenticator.assert(options))).status).toBe(200);
    expect((await signIn(challengeId, await authenticator.assert(options))).status).toBe(401);
  });

  it("a removed passkey no longer signs in", async () => {
    const account = await registerUser();
    const authenticator = await addPasskey(account);
    expect((await request("DELETE", `/api/auth/passkeys/${authenticator.id}`, { token: account.accessToken })).status).toBe(204);
    const { challengeId, options } = await signInOptions();
    expect((await signIn(challengeId, await authenticator.assert(options))).status).toBe(401);
    expect(await auditEvents({ subject: account.userId, type: "passkey.removed" })).toHaveLength(1);
  });

  it("someone else's passkey cannot be removed", async () => {
    const account = await registerUser();
    const other = await registerUser();
    const authenticator = await addPasskey(other);
    expect((await request("DELETE", `/api/auth/passkeys/${authenticator.id}`, { token: account.accessToken })).status).toBe(404);
  });
});

describe("passkey as the second factor", () => {
  it("a password login asks for it, and the account's passkey finishes the login", async () => {
    const account = await registerUser();
    const authenticator = await addPasskey(account);
    const first = await attemptLogin(account.email, account.password);
    expect(first.body).toMatchObject({ mfaRequired: true, methods: ["passkey"] });
    const started = await request("POST", "/api/auth/login/mfa/passkey/options", { body: { mfaToken: first.body.mfaToken } });
    expect(started.status).toBe(200);
    expect(started.body.options.allowCredentials).toEqual([expect.objectContaining({ id: authenticator.id })]);
    const finished = await request("POST", "/api/auth/login/mfa/passkey", {
      body: {
        mfaToken: first.body.mfaToken,
        challengeId: started.body.challengeId,
        response: await authenticator.assert(started.body.options),
      },
    });
    expect(finished.status, finished.text).toBe(200);
    expect(finished.body.user.id).toBe(account.userId);
  });

  it("another account's passkey does not finish this account's login, and its signature counter is not recorded", async () => {
    const account = await registerUser();
    await addPasskey(account);
    const intruder = await registerUser();
    const intruderKey = await addPasskey(intruder);
    const first = await attemptLogin(account.email, account.password);
    const started = await request("POST", "/api/auth/login/mfa/passkey/options", { body: { mfaToken: first.body.mfaToken } });
    const finished = await request("POST", "/api/auth/login/mfa/passkey", {
      body: {
        mfaToken: first.body.mfaToken,
        challengeId: started.body.challengeId,
        response: await intruderKey.assert(started.body.options),
      },
    });
    expect(finished.status).toBe(401);
    // The assertion was valid for the intruder's passkey (counter 1), but nothing of it reached that passkey's row.
    const row = await env.DB.prepare("SELECT counter, last_used_at FROM passkeys WHERE id = ?")
      .bind(intruderKey.id)
      .first<{ counter: number; last_used_at: number | null }>();
    expect(row).toEqual({ counter: 0, last_used_at: null });
  });

  it("someone else's attempt with this login's challenge does not use it up", async () => {
    const account = await registerUser();
    const authenticator = await addPasskey(account);
    const intruder = await registerUser();
    const intruderKey = await addPasskey(intruder);
    const first = await attemptLogin(account.email, account.password);
    const started = await request("POST", "/api/auth/login/mfa/passkey/options", { body: { mfaToken: first.body.mfaToken } });
    const intruderLogin = await attemptLogin(intruder.email, intruder.password);
    const stolen = await request("POST", "/api/auth/login/mfa/passkey", {
      body: {
        mfaToken: intruderLogin.body.mfaToken,
        challengeId: started.body.challengeId,
        response: await intruderKey.assert(started.body.options),
      },
    });
    expect(stolen.status).toBe(401);
    const finished = await request("POST", "/api/auth/login/mfa/passkey", {
      body: {
        mfaToken: first.body.mfaToken,
        challengeId: started.body.challengeId,
        response: await authenticator.assert(started.body.options),
      },
    });
    expect(finished.status, finished.text).toBe(200);
    expect(finished.body.user.id).toBe(account.userId);
  });
});
