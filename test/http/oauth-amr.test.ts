import { env } from "cloudflare:workers";
import * as oauth from "oauth4webapi";
import { describe, expect, it } from "vitest";
import { attemptLogin, HASHING_HEAVY, registerUser, type SignedIn } from "../support/accounts";
import { BASE_URL } from "../support/config";
import { sessionCookie } from "../support/cookies";
import { uniqueEmail } from "../support/fresh";
import type { ApiResponse } from "../support/http";
import { authorizationUrl, callbackFor, discover, REDIRECT_URI, registerClient, viaWorker } from "../support/oauth";
import { browse, newBrowser, signInWith, ticketOf } from "../support/providers";
import { decodePayload } from "../support/tokens";
import { enableTotp } from "../support/totp";
import { SoftAuthenticator } from "../support/webauthn";
import { request } from "../support/worker";

const ONE_FACTOR = "urn:heady:acr:1fa";
const TWO_FACTORS = "urn:heady:acr:2fa";
const RP = { origin: BASE_URL, rpId: new URL(BASE_URL).hostname };

/** The person a sign-in answer (tokens and the session cookie) stands for. */
function signedInAs(account: SignedIn, answer: ApiResponse): SignedIn {
  expect(answer.status, answer.text).toBe(200);
  return {
    ...account,
    accessToken: answer.body.accessToken,
    refreshToken: answer.body.refreshToken,
    cookie: sessionCookie(answer.headers).value,
    response: answer,
  };
}

/** The `amr` recorded by the session an access token was issued for (its `sid`), read from D1. */
async function recordedAmr(accessToken: string): Promise<string[]> {
  const sid = decodePayload(accessToken).sid as string;
  const row = await env.DB.prepare("SELECT amr FROM sessions WHERE id = ?").bind(sid).first<{ amr: string }>();
  return JSON.parse(row!.amr);
}

/** Signs the person into a first-party app with oauth4webapi; the ID token's claims, and those of the ID token a refresh gives. */
async function idTokensFor(person: SignedIn) {
  const as = await discover();
  const { client, clientAuth } = await registerClient({ firstParty: true });
  const start = await authorizationUrl(as, client);
  const params = oauth.validateAuthResponse(as, client, await callbackFor(start, person), start.state);
  const response = await oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, REDIRECT_URI, start.verifier, viaWorker);
  const tokens = await oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: start.nonce, requireIdToken: true });
  const refreshed = await oauth.processRefreshTokenResponse(
    as,
    client,
    await oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token!, viaWorker),
  );
  return { first: oauth.getValidatedIdTokenClaims(tokens)!, refreshed: oauth.getValidatedIdTokenClaims(refreshed)! };
}

async function addPasskey(account: SignedIn): Promise<SoftAuthenticator> {
  const authenticator = new SoftAuthenticator(RP);
  const started = await request("POST", "/api/auth/passkeys/register/options", { token: account.accessToken });
  const finished = await request("POST", "/api/auth/passkeys/register/verify", {
    token: account.accessToken,
    body: { challengeId: started.body.challengeId, response: await authenticator.register(started.body.options), name: "Key" },
  });
  expect(finished.status, finished.text).toBe(201);
  return authenticator;
}

describe("how the person signed in: the session's amr, the ID token's amr and acr", () => {
  it("discovery advertises the acr values and both claims", async () => {
    const { body } = await request("GET", "/.well-known/openid-configuration");
    expect(body.acr_values_supported).toEqual([ONE_FACTOR, TWO_FACTORS]);
    expect(body.claims_supported).toEqual(expect.arrayContaining(["acr", "amr"]));
  });

  it("a password login is pwd, one factor, and a refresh keeps it", HASHING_HEAVY, async () => {
    const person = await registerUser();
    expect(await recordedAmr(person.accessToken)).toEqual(["pwd"]);
    const listed = await request("GET", "/api/auth/sessions", { token: person.accessToken });
    expect(listed.body.sessions).toEqual([expect.objectContaining({ current: true, amr: ["pwd"] })]);
    const { first, refreshed } = await idTokensFor(person);
    expect(first).toMatchObject({ amr: ["pwd"], acr: ONE_FACTOR });
    expect(refreshed).toMatchObject({ amr: ["pwd"], acr: ONE_FACTOR });
  });

  it("password then TOTP is pwd, otp and mfa, two factors; a recovery code is a one-time password too", HASHING_HEAVY, async () => {
    const account = await registerUser();
    const { authenticator, recoveryCodes } = await enableTotp(account.accessToken);
    const passwordStep = async () => (await attemptLogin(account.email, account.password)).body.mfaToken as string;

    const withCode = signedInAs(
      account,
      await request("POST", "/api/auth/login/mfa", { body: { mfaToken: await passwordStep(), code: await authenticator.code() } }),
    );
    expect(await recordedAmr(withCode.accessToken)).toEqual(["pwd", "otp", "mfa"]);
    expect((await idTokensFor(withCode)).first).toMatchObject({ amr: ["pwd", "otp", "mfa"], acr: TWO_FACTORS });

    const withRecoveryCode = signedInAs(
      account,
      await request("POST", "/api/auth/login/mfa", { body: { mfaToken: await passwordStep(), recoveryCode: recoveryCodes[0]! } }),
    );
    expect(await recordedAmr(withRecoveryCode.accessToken)).toEqual(["pwd", "otp", "mfa"]);
  });

  it("a passkey alone is hwk with user presence and, verified, two factors; as the second step it adds to the password", async () => {
    const account = await registerUser();
    const authenticator = await addPasskey(account);

    const options = await request("POST", "/api/auth/passkeys/login/options");
    const passkeyOnly = signedInAs(
      account,
      await request("POST", "/api/auth/passkeys/login/verify", {
        body: { challengeId: options.body.challengeId, response: await authenticator.assert(options.body.options) },
      }),
    );
    expect(await recordedAmr(passkeyOnly.accessToken)).toEqual(["hwk", "user", "mfa"]);
    expect((await idTokensFor(passkeyOnly)).first).toMatchObject({ amr: ["hwk", "user", "mfa"], acr: TWO_FACTORS });

    const mfaToken = (await attemptLogin(account.email, account.password)).body.mfaToken as string;
    const started = await request("POST", "/api/auth/login/mfa/passkey/options", { body: { mfaToken } });
    const secondStep = signedInAs(
      account,
      await request("POST", "/api/auth/login/mfa/passkey", {
        body: { mfaToken, challengeId: started.body.challengeId, response: await authenticator.assert(started.body.options) },
      }),
    );
    expect(await recordedAmr(secondStep.accessToken)).toEqual(["pwd", "hwk", "user", "mfa"]);
  });

  it("a provider sign-in claims nothing of its own; its second step is otp and mfa", { timeout: 30_000 }, async () => {
    const user = { sub: String(Math.floor(Math.random() * 1e12)), email: uniqueEmail("idp"), email_verified: "true" };
    const browser = newBrowser();
    const first = await browse(browser, "POST", "/api/provider/tokens", {
      body: { ticket: ticketOf(await signInWith(browser, "oidc", user)) },
    });
    expect(first.status, first.text).toBe(200);
    expect(await recordedAmr(first.body.accessToken)).toEqual([]);

    const { authenticator } = await enableTotp(first.body.accessToken);
    const again = newBrowser();
    const challenge = await browse(again, "POST", "/api/provider/tokens", {
      body: { ticket: ticketOf(await signInWith(again, "oidc", user)) },
    });
    const secondStep = await request("POST", "/api/auth/login/mfa", {
      body: { mfaToken: challenge.body.mfaToken, code: await authenticator.code() },
    });
    expect(secondStep.status, secondStep.text).toBe(200);
    expect(await recordedAmr(secondStep.body.accessToken)).toEqual(["otp", "mfa"]);
  });

  it("a session that records nothing (older than the record) gets no amr and the one-factor acr", HASHING_HEAVY, async () => {
    const person = await registerUser();
    await env.DB.prepare("UPDATE sessions SET amr = '[]' WHERE user_id = ?").bind(person.userId).run();
    const { first } = await idTokensFor(person);
    expect(first.acr).toBe(ONE_FACTOR);
    expect(first).not.toHaveProperty("amr");
  });
});
