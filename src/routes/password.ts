import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { confirmMailedAddress } from "../account-security/address-confirmation";
import { admitLoginAttempt, forgetLoginFailures } from "../account-security/login-throttle";
import { assertAcceptablePassword } from "../account-security/password-policy";
import { Accepted, ChangePasswordBody, ForgotPasswordBody, ResetPasswordBody } from "../account-security/schemas";
import { emailSubject } from "../audit/email-subject";
import type { AppEnv } from "../context";
import { evictCachedUser } from "../credentials/revocable-state";
import { ROUTE_CREDENTIALS } from "../credentials/route-credentials";
import { callerAccount, sessionPrincipal } from "../credentials/session-principal";
import { decoyPasswordHash, hashPassword, verifyPassword } from "../crypto/password";
import { ApiError } from "../errors";
import { claimEmailTokenStatement, findLiveEmailToken } from "../identity/email-tokens";
import { inBackground, sendPasswordResetMail } from "../identity/mailed-tokens";
import { markSessionAuthenticated } from "../identity/sessions";
import { findUserByEmail, findUserById, hasPassword, replacePassword } from "../identity/users";
import { authenticate } from "../middleware/authenticate";
import { validationHook } from "../middleware/validation";
import { clientIpKey, consumeRateLimit, EMAIL_TOKEN_PER_IP, PASSWORD_FORGOT_PER_EMAIL, PASSWORD_FORGOT_PER_IP } from "../rate-limit/limits";
import { errorResponses, jsonBody, jsonResponse } from "../schemas/common";

/** Password reset by mail, and password change by the signed-in owner. */
export const passwordRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

const TAG = ["Account security"];
const INVALID_LINK = "The reset link is invalid, expired or already used.";
const RESET_ACCEPTED = "If an account exists for this address, a reset link is on its way.";

passwordRoutes.openapi(
  createRoute({
    method: "post",
    path: "/forgot",
    tags: TAG,
    summary: "Mail a password reset link",
    description:
      "Answers 202 with the same body whether or not the address has an account, after the same work: the token and the mail are made after the response. The link works once, for 15 minutes; a newer one replaces it. At most 3 requests per address and 10 per client address in 15 minutes.",
    request: { body: jsonBody(ForgotPasswordBody) },
    responses: { 202: jsonResponse(Accepted, "Accepted, whatever the address"), ...errorResponses(400, 413, 429) },
  }),
  async (c) => {
    const { email } = c.req.valid("json");
    await consumeRateLimit(c.env, PASSWORD_FORGOT_PER_IP, clientIpKey(c.get("meta")));
    await consumeRateLimit(c.env, PASSWORD_FORGOT_PER_EMAIL, email);
    const user = await findUserByEmail(c.get("db"), email);
    inBackground(c, async () => {
      const eligible = user !== undefined && user.disabledAt === null;
      if (eligible) await sendPasswordResetMail(c, user);
      await c.get("audit").record({
        type: "password.reset_requested",
        subject: user?.id ?? (await emailSubject(email)),
        details: { sent: eligible },
      });
    });
    return c.json({ message: RESET_ACCEPTED }, 202);
  },
);

passwordRoutes.openapi(
  createRoute({
    method: "post",
    path: "/reset",
    tags: TAG,
    summary: "Set a new password with the mailed token",
    description:
      "The new password meets the same policy as at registration. The token is used once; the change ends every session, refresh family and access token of the account (API keys stay). It also confirms the address, which the link proved.",
    request: { body: jsonBody(ResetPasswordBody) },
    responses: { 204: { description: "Password set; every session ended" }, ...errorResponses(400, 413, 429) },
  }),
  async (c) => {
    const { token, password } = c.req.valid("json");
    const db = c.get("db");
    await consumeRateLimit(c.env, EMAIL_TOKEN_PER_IP, clientIpKey(c.get("meta")));
    const row = await findLiveEmailToken(db, "reset_password", token);
    const user = row && (await findUserById(db, row.userId));
    if (!row || !user || user.email !== row.email || user.disabledAt !== null) throw new ApiError("invalid_email_token", INVALID_LINK);
    // Before the token is used, so that a weak password does not cost the owner the link.
    assertAcceptablePassword(password, user.email);
    const passwordHash = await hashPassword(password);
    const [claimed] = await claimEmailTokenStatement(db, row, Date.now());
    if (!claimed) throw new ApiError("invalid_email_token", INVALID_LINK);
    await replacePassword(db, user.id, passwordHash);
    await confirmMailedAddress(c, user.id, row.email);
    evictCachedUser(user.id);
    await c.get("audit").record({ type: "password.reset", subject: user.id });
    return c.body(null, 204);
  },
);

passwordRoutes.openapi(
  createRoute({
    method: "post",
    path: "/change",
    tags: TAG,
    summary: "Change the password (needs the current one)",
    description:
      "Wrong current passwords count against the same lockout as logins (docs/api.md, 'Login throttling'). The new password meets the registration policy. Every other session of the account ends; this one stays.",
    middleware: [authenticate(ROUTE_CREDENTIALS.passwordChange)] as const,
    request: { body: jsonBody(ChangePasswordBody) },
    responses: { 204: { description: "Password changed; the other sessions ended" }, ...errorResponses(400, 401, 403, 413, 429) },
  }),
  async (c) => {
    const { currentPassword, newPassword } = c.req.valid("json");
    const principal = sessionPrincipal(c);
    const db = c.get("db");
    const user = await callerAccount(c);
    await admitLoginAttempt(c, user.email);
    const check = await verifyPassword(currentPassword, hasPassword(user) ? user.passwordHash : await decoyPasswordHash());
    if (!check.valid) {
      await c.get("audit").record({ type: "password.change_failed", subject: user.id });
      throw new ApiError("forbidden", "The current password is incorrect.");
    }
    await forgetLoginFailures(c, user.email);
    assertAcceptablePassword(newPassword, user.email);
    await replacePassword(db, user.id, await hashPassword(newPassword), principal.sessionId);
    // The current password was just proved: this session counts as freshly authenticated.
    await markSessionAuthenticated(db, principal.sessionId, Date.now());
    evictCachedUser(user.id);
    await c.get("audit").record({ type: "password.changed", subject: user.id, details: { sessionId: principal.sessionId } });
    return c.body(null, 204);
  },
);
