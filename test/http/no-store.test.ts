import { beforeAll, describe, expect, it } from "vitest";
import { apiKeyFor, attemptLogin, HASHING_HEAVY, login, refresh, registerUser, type SignedIn, updateUser } from "../support/accounts";
import { ALLOWED_ORIGIN, BASE_URL } from "../support/config";
import { strongPassword, uniqueEmail } from "../support/fresh";
import type { ApiResponse } from "../support/http";
import { completeStage, MOUNTS, saveDataStages } from "../support/onboarding";
import { requestPqcToken } from "../support/pqc";
import { browse, newBrowser, signInWith, ticketOf } from "../support/providers";
import { authenticatorFor, enableTotp } from "../support/totp";
import { SoftAuthenticator } from "../support/webauthn";
import { request } from "../support/worker";

/**
 * Every response that carries a token, a key or a secret is `no-store` (RFC 6749 §5.1, with
 * `Pragma: no-cache` for HTTP/1.0 caches). One list, so a new such route is added here.
 */

const RP = { origin: BASE_URL, rpId: new URL(BASE_URL).hostname };

async function withPasskey(account: SignedIn): Promise<SoftAuthenticator> {
  const authenticator = new SoftAuthenticator(RP);
  const started = await request("POST", "/api/auth/passkeys/register/options", { token: account.accessToken });
  const finished = await request("POST", "/api/auth/passkeys/register/verify", {
    token: account.accessToken,
    body: { challengeId: started.body.challengeId, response: await authenticator.register(started.body.options) },
  });
  if (finished.status !== 201) throw new Error(`passkey: ${finished.status} ${finished.text}`);
  return authenticator;
}

/** An account whose password login asks for a second factor: a TOTP and a passkey. */
async function mfaAccount() {
  const account = await registerUser();
  const { recoveryCodes } = await enableTotp(account.accessToken);
  const authenticator = await withPasskey(account);
  return { account, recoveryCodes, authenticator };
}

async function mfaToken(account: SignedIn): Promise<string> {
  const first = await attemptLogin(account.email, account.password);
  if (first.body?.mfaRequired !== true) throw new Error(`login: ${first.status} ${first.text}`);
  return first.body.mfaToken;
}

/** [what, how the response is made, its status, the field (or header) that holds the secret]. */
const TOKEN_RESPONSES: [string, () => Promise<ApiResponse>, number, string][] = [
  [
    "POST /api/auth/register",
    () => request("POST", "/api/auth/register", { body: { email: uniqueEmail(), password: strongPassword() } }),
    201,
    "accessToken",
  ],
  [
    "POST /api/auth/login",
    async () => {
      const account = await registerUser();
      return attemptLogin(account.email, account.password);
    },
    200,
    "accessToken",
  ],
  [
    "POST /api/auth/login (the MFA challenge)",
    async () => {
      const { account } = await mfaAccount();
      return attemptLogin(account.email, account.password);
    },
    200,
    "mfaToken",
  ],
  [
    "POST /api/auth/login/mfa",
    async () => {
      const { account, recoveryCodes } = await mfaAccount();
      return request("POST", "/api/auth/login/mfa", { body: { mfaToken: await mfaToken(account), recoveryCode: recoveryCodes[0] } });
    },
    200,
    "accessToken",
  ],
  [
    "POST /api/auth/login/mfa/passkey",
    async () => {
      const { account, authenticator } = await mfaAccount();
      const token = await mfaToken(account);
      const started = await request("POST", "/api/auth/login/mfa/passkey/options", { body: { mfaToken: token } });
      return request("POST", "/api/auth/login/mfa/passkey", {
        body: { mfaToken: token, challengeId: started.body.challengeId, response: await authenticator.assert(started.body.options) },
      });
    },
    200,
    "accessToken",
  ],
  [
    "POST /api/auth/passkeys/login/verify",
    async () => {
      const authenticator = await withPasskey(await registerUser());
      const started = await request("POST", "/api/auth/passkeys/login/options");
      return request("POST", "/api/auth/passkeys/login/verify", {
        body: { challengeId: started.body.challengeId, response: await authenticator.assert(started.body.options) },
      });
    },
    200,
    "accessToken",
  ],
  ["POST /api/auth/refresh", async () => refresh((await registerUser()).refreshToken), 200, "refreshToken"],
  [
    "GET /api/provider/callback/:provider (the ticket in its redirect)",
    () => signInWith(newBrowser(), "oidc", { sub: crypto.randomUUID(), email: uniqueEmail("idp"), email_verified: "true" }),
    302,
    "Location",
  ],
  [
    "POST /api/provider/tokens",
    async () => {
      const browser = newBrowser();
      const callback = await signInWith(browser, "oidc", { sub: crypto.randomUUID(), email: uniqueEmail("idp"), email_verified: "true" });
      return browse(browser, "POST", "/api/provider/tokens", { body: { ticket: ticketOf(callback) } });
    },
    200,
    "accessToken",
  ],
  [
    "POST /api/auth/api-keys",
    async () => request("POST", "/api/auth/api-keys", { token: (await registerUser()).accessToken, body: { description: "kept secret" } }),
    201,
    "key",
  ],
  ...MOUNTS.map((mount): [string, () => Promise<ApiResponse>, number, string] => [
    `POST ${mount}/complete (completion answers the API key)`,
    async () => {
      const account = await registerUser();
      await saveDataStages(account);
      return completeStage(account, { stage: "completion" }, {}, mount);
    },
    200,
    "apiKey",
  ]),
  [
    "POST /api/auth/mfa/totp/enroll",
    async () => request("POST", "/api/auth/mfa/totp/enroll", { token: (await registerUser()).accessToken }),
    200,
    "secret",
  ],
  [
    "POST /api/auth/mfa/totp/confirm",
    async () => {
      const account = await registerUser();
      const enrolled = await request("POST", "/api/auth/mfa/totp/enroll", { token: account.accessToken });
      const code = await authenticatorFor(enrolled.body.otpauthUri).code(-1);
      return request("POST", "/api/auth/mfa/totp/confirm", { token: account.accessToken, body: { code } });
    },
    200,
    "recoveryCodes",
  ],
  [
    "POST /api/auth/request-pqc-token",
    async () => requestPqcToken({ service: "headyme", operation: "sync" }, { token: (await registerUser()).accessToken }),
    200,
    "pqcToken",
  ],
  [
    "POST /api/auth/request-pqc-token (a reference)",
    async () => requestPqcToken({ service: "headyme", operation: "sync", reference: true }, { token: (await registerUser()).accessToken }),
    200,
    "reference",
  ],
  [
    "POST /api/sage/token",
    async () => {
      const account = await registerUser();
      await updateUser(account.userId, { role: "operator" });
      const operator = await login(account.email, account.password);
      return request("POST", "/api/sage/token", {
        token: operator.accessToken,
        body: { node_id: `node-${crypto.randomUUID().slice(0, 8)}`, role: "ui" },
      });
    },
    200,
    "token",
  ],
  [
    "POST /api/session/start (signed in)",
    async () => request("POST", "/api/session/start", { token: (await registerUser()).accessToken, headers: { Origin: ALLOWED_ORIGIN } }),
    201,
    "token",
  ],
  ["POST /api/session/start (a guest)", () => request("POST", "/api/session/start", { headers: { Origin: ALLOWED_ORIGIN } }), 201, "token"],
  [
    "GET /api/dev/outbox (mailed tokens, outside production)",
    async () => request("GET", `/api/dev/outbox?to=${encodeURIComponent((await registerUser()).email)}`),
    200,
    "messages",
  ],
];

function expectNoStore(response: ApiResponse) {
  expect(response.headers.get("Cache-Control")).toBe("no-store");
  expect(response.headers.get("Pragma")).toBe("no-cache");
}

describe("responses that carry a token, key or secret are never stored", () => {
  it.each(TOKEN_RESPONSES)(
    "%s",
    async (_, respond, status, secret) => {
      const response = await respond();
      expect(response.status, response.text).toBe(status);
      // It does carry the secret: the test is about this response, not some error.
      if (status === 302) expect(response.headers.get(secret)).toContain("ticket=");
      else expect(response.body[secret]).toBeDefined();
      expectNoStore(response);
    },
    HASHING_HEAVY.timeout,
  );
});

describe("no-store is the default, not a per-route header", () => {
  let account: SignedIn;
  beforeAll(async () => {
    account = await registerUser();
  });

  it.each([
    ["a person's own data", () => request("GET", "/api/auth/me", { token: account.accessToken }), 200],
    [
      "what an API key is told about its owner",
      async () => request("GET", "/api/auth/me", { headers: { "X-API-Key": await apiKeyFor(account, []) } }),
      200,
    ],
    ["an error", () => request("POST", "/api/auth/login", { body: { email: uniqueEmail(), password: "wrong-password-1" } }), 401],
    ["an unknown path", () => request("GET", "/api/nothing-here"), 404],
    ["a hosted page", () => request("GET", "/account"), 200],
    [
      "a CORS preflight",
      () => request("OPTIONS", "/api/auth/login", { headers: { Origin: ALLOWED_ORIGIN, "Access-Control-Request-Method": "POST" } }),
      204,
    ],
  ])("%s is no-store", async (_, respond, status) => {
    const response = await respond();
    expect(response.status).toBe(status);
    expectNoStore(response);
  });

  it.each([
    ["/.well-known/jwks.json", "public, max-age=300"],
    ["/pages/style.css", "public, max-age=300"],
  ])("%s, public and the same for everyone, keeps its own Cache-Control", async (path, cacheControl) => {
    const response = await request("GET", path);
    expect(response.status).toBe(200);
    expect(response.headers.get("Cache-Control")).toBe(cacheControl);
    expect(response.headers.get("Pragma")).toBeNull();
  });
});
