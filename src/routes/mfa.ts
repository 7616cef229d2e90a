import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { admitLoginAttempt, forgetLoginFailures } from "../account-security/login-throttle";
import { acceptFreshTotpCode, finishMfaLogin } from "../account-security/mfa-challenge";
import {
  acceptTotpStep,
  deleteTotp,
  findTotp,
  remainingRecoveryCodes,
  replaceRecoveryCodes,
  startTotpEnrolment,
  useRecoveryCode,
} from "../account-security/mfa-store";
import { MfaLoginBody, MfaStatus, RecoveryCodeList, TotpCodeBody, TotpEnrolment } from "../account-security/schemas";
import { matchingTotpStep, newTotpSecret, totpManualKey, totpUri } from "../account-security/totp";
import type { AppEnv } from "../context";
import { ROUTE_CREDENTIALS } from "../credentials/route-credentials";
import { callerAccount } from "../credentials/session-principal";
import { ApiError } from "../errors";
import { SessionTokens } from "../identity/schemas";
import { authenticate } from "../middleware/authenticate";
import { requireRecentAuthentication } from "../middleware/require-recent-authentication";
import { validationHook } from "../middleware/validation";
import { errorResponses, jsonBody, jsonResponse } from "../schemas/common";

/** TOTP enrolment and removal (`/api/auth/mfa/*`) and the second step of a login (`/api/auth/login/mfa`). */
export const mfaRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

const TAG = ["Account security"];
const WRONG_CODE = "The code is incorrect or was already used.";

/** A fresh TOTP code of the user's confirmed authenticator (see acceptFreshTotpCode). */
function acceptFreshCode(c: Context<AppEnv>, userId: string, code: string): Promise<boolean> {
  return acceptFreshTotpCode(c.get("db"), userId, code);
}

mfaRoutes.openapi(
  createRoute({
    method: "get",
    path: "/mfa",
    tags: TAG,
    summary: "Whether MFA is on, and how many recovery codes are left",
    middleware: [authenticate(ROUTE_CREDENTIALS.mfa)] as const,
    responses: { 200: jsonResponse(MfaStatus, "MFA status"), ...errorResponses(401, 403) },
  }),
  async (c) => {
    const userId = c.get("principal").userId;
    const totp = await findTotp(c.get("db"), userId);
    return c.json({ totp: Boolean(totp?.confirmedAt), recoveryCodesLeft: await remainingRecoveryCodes(c.get("db"), userId) }, 200);
  },
);

mfaRoutes.openapi(
  createRoute({
    method: "post",
    path: "/mfa/totp/enroll",
    tags: TAG,
    summary: "Start TOTP enrolment",
    description:
      "Answers a new secret as an `otpauth://` URI (for a QR code) and in base32. Nothing changes at login until `/api/auth/mfa/totp/confirm` receives a first code. 409 when TOTP is already on.",
    middleware: [authenticate(ROUTE_CREDENTIALS.mfa), requireRecentAuthentication()] as const,
    responses: { 200: jsonResponse(TotpEnrolment, "The secret to add to an authenticator app"), ...errorResponses(401, 403, 409) },
  }),
  async (c) => {
    const user = await callerAccount(c);
    const secret = newTotpSecret();
    if (!(await startTotpEnrolment(c.get("db"), user.id, secret))) throw new ApiError("conflict", "TOTP is already on; disable it first.");
    const otpauthUri = totpUri("HeadyKey", user.email, secret);
    return c.json({ otpauthUri, secret: totpManualKey(otpauthUri) }, 200);
  },
);

mfaRoutes.openapi(
  createRoute({
    method: "post",
    path: "/mfa/totp/confirm",
    tags: TAG,
    summary: "Confirm TOTP with a first code; answers the recovery codes",
    description: "Turns MFA on and answers 10 single-use recovery codes, shown this once (only their hashes are kept).",
    middleware: [authenticate(ROUTE_CREDENTIALS.mfa), requireRecentAuthentication()] as const,
    request: { body: jsonBody(TotpCodeBody) },
    responses: { 200: jsonResponse(RecoveryCodeList, "MFA is on"), ...errorResponses(400, 401, 403, 409, 429) },
  }),
  async (c) => {
    const { code } = c.req.valid("json");
    const user = await callerAccount(c);
    const db = c.get("db");
    const totp = await findTotp(db, user.id);
    if (!totp) throw new ApiError("conflict", "Start an enrolment first.");
    if (totp.confirmedAt) throw new ApiError("conflict", "TOTP is already on.");
    await admitLoginAttempt(c, user.email);
    const step = matchingTotpStep(totp.secret, code);
    if (step === undefined || !(await acceptTotpStep(db, user.id, step, true))) throw new ApiError("invalid_request", WRONG_CODE);
    const recoveryCodes = await replaceRecoveryCodes(db, user.id);
    await c.get("audit").record({ type: "mfa.enabled", subject: user.id, details: { method: "totp" } });
    return c.json({ recoveryCodes }, 200);
  },
);

mfaRoutes.openapi(
  createRoute({
    method: "post",
    path: "/mfa/totp/disable",
    tags: TAG,
    summary: "Turn TOTP off (needs a fresh code)",
    description: "Needs a current TOTP code not used before; a recovery code does not do. Removes the recovery codes too.",
    middleware: [authenticate(ROUTE_CREDENTIALS.mfa), requireRecentAuthentication()] as const,
    request: { body: jsonBody(TotpCodeBody) },
    responses: { 204: { description: "MFA is off" }, ...errorResponses(400, 401, 403, 429) },
  }),
  async (c) => {
    const { code } = c.req.valid("json");
    const user = await callerAccount(c);
    await admitLoginAttempt(c, user.email);
    if (!(await acceptFreshCode(c, user.id, code))) throw new ApiError("invalid_request", WRONG_CODE);
    await forgetLoginFailures(c, user.email);
    await deleteTotp(c.get("db"), user.id);
    await c.get("audit").record({ type: "mfa.disabled", subject: user.id, details: { method: "totp" } });
    return c.body(null, 204);
  },
);

mfaRoutes.openapi(
  createRoute({
    method: "post",
    path: "/login/mfa",
    tags: TAG,
    summary: "Second step of a login with MFA on",
    description:
      "Takes the `mfaToken` the password step answered and either a TOTP `code` (±1 step of 30 s, each step accepted once) or a `recoveryCode` (each works once). A challenge lives 5 minutes and takes 5 wrong codes; wrong codes also count against the login lockout (docs/api.md, 'Login throttling'). Answers as a password login does.",
    request: { body: jsonBody(MfaLoginBody) },
    responses: { 200: jsonResponse(SessionTokens, "Signed in; session cookie set"), ...errorResponses(400, 401, 413, 429) },
  }),
  async (c) => {
    const { mfaToken, code, recoveryCode } = c.req.valid("json");
    const db = c.get("db");
    if (code !== undefined) return c.json(await finishMfaLogin(c, mfaToken, "totp", (user) => acceptFreshCode(c, user.id, code)), 200);
    const body = await finishMfaLogin(c, mfaToken, "recovery_code", async (user) => {
      if (!(await useRecoveryCode(db, user.id, recoveryCode!))) return false;
      await c
        .get("audit")
        .record({ type: "mfa.recovery_code_used", subject: user.id, details: { left: await remainingRecoveryCodes(db, user.id) } });
      return true;
    });
    return c.json(body, 200);
  },
);
