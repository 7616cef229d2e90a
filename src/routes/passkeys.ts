import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from "@simplewebauthn/server";
import type { Context } from "hono";
import { admitLoginAttempt, forgetLoginFailures } from "../account-security/login-throttle";
import { finishMfaLogin, userOfMfaChallenge } from "../account-security/mfa-challenge";
import {
  deletePasskey,
  findPasskey,
  insertPasskey,
  listPasskeys,
  recordPasskeyUse,
  storeWebauthnChallenge,
  takeWebauthnChallenge,
  type WebauthnChallengePurpose,
} from "../account-security/passkey-store";
import { Reauthenticated } from "../account-security/reauthentication-schemas";
import {
  MfaTokenBody,
  Passkey,
  PasskeyAssertionBody,
  PasskeyIdParam,
  PasskeyList,
  PasskeyReauthenticationBody,
  PasskeyRegistrationBody,
  PasskeySecondFactorBody,
  WebauthnOptions,
} from "../account-security/schemas";
import { authenticationOptions, registrationOptions, verifyAssertion, verifyRegistration } from "../account-security/webauthn";
import { recordWithReceiptHeader } from "../audit/receipt-header";
import type { AppEnv } from "../context";
import { ROUTE_CREDENTIALS } from "../credentials/route-credentials";
import { callerAccount, sessionPrincipal } from "../credentials/session-principal";
import { toBase64Url } from "../crypto/encoding";
import type { PasskeyRow } from "../db/schema";
import { ApiError } from "../errors";
import { PASSKEY_SIGN_IN } from "../identity/authentication-methods";
import { SessionTokens } from "../identity/schemas";
import { startSession } from "../identity/sign-in";
import { findUserById } from "../identity/users";
import { authenticate } from "../middleware/authenticate";
import { requireRecentAuthentication } from "../middleware/require-recent-authentication";
import { validationHook } from "../middleware/validation";
import { clientIpKey, consumeRateLimit, PASSKEY_SIGN_IN_PER_IP } from "../rate-limit/limits";
import { errorResponses, isoTime, jsonBody, jsonResponse } from "../schemas/common";
import { markReauthenticated } from "./reauthenticate";

/** Passkeys (WebAuthn): registered and removed by the signed-in owner; a first factor on their own, or a second one. */
export const passkeyRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

const TAG = ["Account security"];
const REFUSED = "The passkey could not be verified.";

/** Stores a ceremony's single-use challenge and answers what the browser needs to run it. */
async function ceremony(c: Context<AppEnv>, purpose: WebauthnChallengePurpose, options: { challenge: string }, userId: string | null) {
  const challengeId = await storeWebauthnChallenge(c.get("db"), purpose, options.challenge, userId);
  return { challengeId, options: options as unknown as Record<string, unknown> };
}

function describePasskey(passkey: PasskeyRow) {
  return {
    id: passkey.id,
    name: passkey.name,
    createdAt: new Date(passkey.createdAt).toISOString(),
    lastUsedAt: isoTime(passkey.lastUsedAt),
    backedUp: passkey.backedUp,
    deviceType: passkey.deviceType,
  };
}

/**
 * Checks an assertion against its single-use challenge and the stored passkey, then records the new
 * counter (conditionally, so of two assertions with one counter only one counts). `owner` is the
 * user whose second factor this is (the passkey must be theirs), or null for a sign-in, where the
 * passkey names its user. The passkey, or undefined when anything fails.
 */
async function checkAssertion(
  c: Context<AppEnv>,
  challengeId: string,
  purpose: "sign_in" | "second_factor",
  response: AuthenticationResponseJSON,
  requireUserVerification: boolean,
  owner: string | null,
): Promise<{ passkey: PasskeyRow } | undefined> {
  const db = c.get("db");
  const challenge = await takeWebauthnChallenge(db, challengeId, purpose, owner);
  const passkey = challenge && typeof response.id === "string" ? await findPasskey(db, response.id) : undefined;
  if (!challenge || !passkey) return undefined;
  // Ownership first: another account's passkey is refused before its assertion is verified, so its counter is never recorded here.
  if (owner !== null && passkey.userId !== owner) return undefined;
  const counter = await verifyAssertion(c.get("config"), response, challenge.challenge, passkey, requireUserVerification);
  if (counter === undefined || !(await recordPasskeyUse(db, passkey.id, passkey.counter, counter))) return undefined;
  return { passkey };
}

passkeyRoutes.openapi(
  createRoute({
    method: "get",
    path: "/passkeys",
    tags: TAG,
    summary: "The caller's passkeys",
    middleware: [authenticate(ROUTE_CREDENTIALS.passkeys)] as const,
    responses: { 200: jsonResponse(PasskeyList, "Passkeys, oldest first"), ...errorResponses(401, 403) },
  }),
  async (c) => c.json({ passkeys: (await listPasskeys(c.get("db"), c.get("principal").userId)).map(describePasskey) }, 200),
);

passkeyRoutes.openapi(
  createRoute({
    method: "post",
    path: "/passkeys/register/options",
    tags: TAG,
    summary: "Start registering a passkey",
    description:
      "Options for `navigator.credentials.create()`: RP from WEBAUTHN_RP_ID, a discoverable credential with user verification, the caller's passkeys excluded. The challenge works once, for 5 minutes.",
    middleware: [authenticate(ROUTE_CREDENTIALS.passkeys), requireRecentAuthentication()] as const,
    responses: { 200: jsonResponse(WebauthnOptions, "Creation options"), ...errorResponses(401, 403) },
  }),
  async (c) => {
    const user = await callerAccount(c);
    const options = await registrationOptions(c.get("config"), user, await listPasskeys(c.get("db"), user.id));
    return c.json(await ceremony(c, "register", options, user.id), 200);
  },
);

passkeyRoutes.openapi(
  createRoute({
    method: "post",
    path: "/passkeys/register/verify",
    tags: TAG,
    summary: "Finish registering a passkey",
    description:
      "Checks the attestation against the challenge, the origins of WEBAUTHN_ORIGINS and the RP ID, with user verification. From then on, a password login asks for a second factor.",
    middleware: [authenticate(ROUTE_CREDENTIALS.passkeys), requireRecentAuthentication()] as const,
    request: { body: jsonBody(PasskeyRegistrationBody) },
    responses: { 201: jsonResponse(Passkey, "Registered"), ...errorResponses(400, 401, 403, 409) },
  }),
  async (c) => {
    const { challengeId, response, name } = c.req.valid("json");
    const user = await callerAccount(c);
    const db = c.get("db");
    const challenge = await takeWebauthnChallenge(db, challengeId, "register", user.id);
    if (!challenge) throw new ApiError("invalid_request", "The registration challenge is invalid or expired.");
    const info = await verifyRegistration(c.get("config"), response as unknown as RegistrationResponseJSON, challenge.challenge);
    if (!info) throw new ApiError("invalid_request", REFUSED);
    const row = {
      id: info.credential.id,
      userId: user.id,
      publicKey: toBase64Url(info.credential.publicKey),
      counter: info.credential.counter,
      transports: info.credential.transports ?? [],
      deviceType: info.credentialDeviceType,
      backedUp: info.credentialBackedUp,
      name: name ?? "Passkey",
      createdAt: Date.now(),
    };
    if (!(await insertPasskey(db, row))) throw new ApiError("conflict", "This passkey is registered already.");
    await c.get("audit").record({ type: "passkey.added", subject: user.id, details: { passkeyId: row.id } });
    return c.json(describePasskey({ ...row, lastUsedAt: null }), 201);
  },
);

passkeyRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/passkeys/{id}",
    tags: TAG,
    summary: "Remove one of the caller's passkeys",
    middleware: [authenticate(ROUTE_CREDENTIALS.passkeys), requireRecentAuthentication()] as const,
    request: { params: PasskeyIdParam },
    responses: { 204: { description: "Removed" }, ...errorResponses(401, 403, 404) },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const userId = c.get("principal").userId;
    if (!(await deletePasskey(c.get("db"), userId, id))) throw new ApiError("not_found", "No such passkey.");
    await c.get("audit").record({ type: "passkey.removed", subject: userId, details: { passkeyId: id } });
    return c.body(null, 204);
  },
);

passkeyRoutes.openapi(
  createRoute({
    method: "post",
    path: "/passkeys/login/options",
    tags: TAG,
    summary: "Start signing in with a passkey (first factor)",
    description:
      "Options for `navigator.credentials.get()` with user verification required and no credential list (the authenticator offers its discoverable passkeys). 30 per client address in 5 minutes.",
    responses: { 200: jsonResponse(WebauthnOptions, "Request options"), ...errorResponses(429) },
  }),
  async (c) => {
    await consumeRateLimit(c.env, PASSKEY_SIGN_IN_PER_IP, clientIpKey(c.get("meta")));
    const options = await authenticationOptions(c.get("config"));
    return c.json(await ceremony(c, "sign_in", options, null), 200);
  },
);

passkeyRoutes.openapi(
  createRoute({
    method: "post",
    path: "/passkeys/login/verify",
    tags: TAG,
    summary: "Sign in with a passkey",
    description:
      "Signature, challenge (once), origin, RP ID, user presence and user verification are checked, and the signature counter must rise (when the authenticator counts). A passkey with user verification is two factors in one, so no second step follows. Answers as a password login does.",
    request: { body: jsonBody(PasskeyAssertionBody) },
    responses: { 200: jsonResponse(SessionTokens, "Signed in; session cookie set"), ...errorResponses(400, 401, 429) },
  }),
  async (c) => {
    const { challengeId, response } = c.req.valid("json");
    await consumeRateLimit(c.env, PASSKEY_SIGN_IN_PER_IP, clientIpKey(c.get("meta")));
    const checked = await checkAssertion(c, challengeId, "sign_in", response as unknown as AuthenticationResponseJSON, true, null);
    const user = checked && (await findUserById(c.get("db"), checked.passkey.userId));
    if (!checked || !user || user.disabledAt !== null) {
      await c.get("audit").recordCoalesced({ type: "login.failed", details: { reason: "passkey_refused" } });
      throw new ApiError("invalid_credentials", REFUSED, { "WWW-Authenticate": 'Bearer realm="heady"' });
    }
    const body = await startSession(c, user, PASSKEY_SIGN_IN);
    await recordWithReceiptHeader(c, {
      type: "login.succeeded",
      subject: user.id,
      details: { method: "passkey", passkeyId: checked.passkey.id },
    });
    return c.json(body, 200);
  },
);

passkeyRoutes.openapi(
  createRoute({
    method: "post",
    path: "/login/mfa/passkey/options",
    tags: TAG,
    summary: "Options for a passkey as the second factor",
    description:
      "Takes the `mfaToken` of the password step (counted as an attempt at it) and answers options listing that account's passkeys.",
    request: { body: jsonBody(MfaTokenBody) },
    responses: { 200: jsonResponse(WebauthnOptions, "Request options"), ...errorResponses(400, 401) },
  }),
  async (c) => {
    const { mfaToken } = c.req.valid("json");
    const { user } = await userOfMfaChallenge(c, mfaToken);
    const allowed = await listPasskeys(c.get("db"), user.id);
    if (allowed.length === 0) throw new ApiError("invalid_request", "This account has no passkey.");
    const options = await authenticationOptions(c.get("config"), allowed);
    return c.json(await ceremony(c, "second_factor", options, user.id), 200);
  },
);

passkeyRoutes.openapi(
  createRoute({
    method: "post",
    path: "/login/mfa/passkey",
    tags: TAG,
    summary: "Second step of a login, with a passkey",
    description:
      "The passkey must be the account's own, and its assertion is checked as for a passkey sign-in (user verification preferred, not required, since the password was the first factor).",
    request: { body: jsonBody(PasskeySecondFactorBody) },
    responses: { 200: jsonResponse(SessionTokens, "Signed in; session cookie set"), ...errorResponses(400, 401, 429) },
  }),
  async (c) => {
    const { mfaToken, challengeId, response } = c.req.valid("json");
    const body = await finishMfaLogin(c, mfaToken, "passkey", async (user) => {
      return (
        (await checkAssertion(c, challengeId, "second_factor", response as unknown as AuthenticationResponseJSON, false, user.id)) !==
        undefined
      );
    });
    return c.json(body, 200);
  },
);

passkeyRoutes.openapi(
  createRoute({
    method: "post",
    path: "/reauthenticate/passkey/options",
    tags: TAG,
    summary: "Options for re-authenticating with one of the caller's passkeys",
    description: "Request options listing the caller's passkeys, with user verification required; the challenge works once, for 5 minutes.",
    middleware: [authenticate(ROUTE_CREDENTIALS.reauthenticate)] as const,
    responses: { 200: jsonResponse(WebauthnOptions, "Request options"), ...errorResponses(400, 401, 403) },
  }),
  async (c) => {
    const user = await callerAccount(c);
    const allowed = await listPasskeys(c.get("db"), user.id);
    if (allowed.length === 0) throw new ApiError("invalid_request", "This account has no passkey.");
    return c.json(await ceremony(c, "second_factor", await authenticationOptions(c.get("config"), allowed), user.id), 200);
  },
);

passkeyRoutes.openapi(
  createRoute({
    method: "post",
    path: "/reauthenticate/passkey",
    tags: TAG,
    summary: "Re-authenticate with a passkey",
    description: "As `POST /api/auth/reauthenticate`, with an assertion of one of the caller's own passkeys (user verification required).",
    middleware: [authenticate(ROUTE_CREDENTIALS.reauthenticate)] as const,
    request: { body: jsonBody(PasskeyReauthenticationBody) },
    responses: { 200: jsonResponse(Reauthenticated, "The session counts as freshly authenticated"), ...errorResponses(400, 401, 403, 429) },
  }),
  async (c) => {
    const { challengeId, response } = c.req.valid("json");
    const principal = sessionPrincipal(c);
    const user = await callerAccount(c);
    await admitLoginAttempt(c, user.email);
    const checked = await checkAssertion(c, challengeId, "second_factor", response as unknown as AuthenticationResponseJSON, true, user.id);
    if (!checked) {
      await c
        .get("audit")
        .record({ type: "reauthentication.failed", subject: user.id, details: { method: "passkey", sessionId: principal.sessionId } });
      throw new ApiError("invalid_credentials", REFUSED);
    }
    await forgetLoginFailures(c, user.email);
    return c.json(await markReauthenticated(c, principal.sessionId, user.id, "passkey"), 200);
  },
);
