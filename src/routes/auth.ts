import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { admitLoginAttempt, forgetLoginFailures } from "../account-security/login-throttle";
import { mfaChallengeResponse, mfaMethods } from "../account-security/mfa-challenge";
import { assertAcceptablePassword } from "../account-security/password-policy";
import { MfaChallenge } from "../account-security/schemas";
import { emailSubject } from "../audit/email-subject";
import { recordWithReceiptHeader } from "../audit/receipt-header";
import type { AppEnv } from "../context";
import { issueAccessToken } from "../credentials/access-token";
import { evictCachedSession } from "../credentials/revocable-state";
import { ROUTE_CREDENTIALS } from "../credentials/route-credentials";
import { decoyPasswordHash, hashPassword, verifyPassword } from "../crypto/password";
import type { UserRow } from "../db/schema";
import { ApiError } from "../errors";
import { PASSWORD_SIGN_IN } from "../identity/authentication-methods";
import { bootstrapAdminOnLogin } from "../identity/bootstrap-admin";
import { sendVerificationMail } from "../identity/mailed-tokens";
import { rotateRefreshToken } from "../identity/refresh-tokens";
import { LoginBody, RefreshBody, RefreshedTokens, RegisterBody, SessionTokens, User, Verification } from "../identity/schemas";
import { clearSessionCookie } from "../identity/session-cookie";
import { findLiveSession, revokeSession } from "../identity/sessions";
import { startSession } from "../identity/sign-in";
import {
  findUserByEmail,
  findUserById,
  hasPassword,
  insertUser,
  isEmailVerified,
  publicProfile,
  updatePasswordHash,
} from "../identity/users";
import { authenticate } from "../middleware/authenticate";
import { validationHook } from "../middleware/validation";
import { clientIpKey, consumeRateLimit, REFRESH_PER_IP, REGISTER_PER_IP } from "../rate-limit/limits";
import { errorResponses, jsonBody, jsonResponse } from "../schemas/common";

export const authRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

const TAG = ["Identity"];

/** The client, as per-IP limits count it (IPv6 by /64). */
function clientKey(c: Context<AppEnv>): string {
  return clientIpKey(c.get("meta"));
}

const INVALID_CREDENTIALS = "Email or password is incorrect.";

/**
 * The account exists whatever happens to the mail: a transport that is down
 * is logged, and the owner asks for another link with `POST /api/auth/verify-email/resend`.
 */
async function sendVerificationAfterRegistration(c: Context<AppEnv>, user: UserRow): Promise<void> {
  try {
    await sendVerificationMail(c, user);
  } catch (error) {
    console.error(`[${c.get("requestId")}] verification mail failed`, error);
  }
}

authRoutes.openapi(
  createRoute({
    method: "post",
    path: "/register",
    tags: TAG,
    summary: "Create an account (role user) and sign in",
    request: { body: jsonBody(RegisterBody) },
    responses: { 201: jsonResponse(SessionTokens, "Account created; session cookie set"), ...errorResponses(400, 409, 413, 429) },
  }),
  async (c) => {
    const { email, password, displayName } = c.req.valid("json");
    await consumeRateLimit(c.env, REGISTER_PER_IP, clientKey(c));
    assertAcceptablePassword(password, email);
    const db = c.get("db");
    const user = await insertUser(db, { email, passwordHash: await hashPassword(password), role: "user", displayName });
    if (!user) throw new ApiError("email_taken", "An account with this email already exists.");
    const body = await startSession(c, user, PASSWORD_SIGN_IN);
    await sendVerificationAfterRegistration(c, user);
    await recordWithReceiptHeader(c, { type: "user.registered", subject: user.id });
    return c.json(body, 201);
  },
);

authRoutes.openapi(
  createRoute({
    method: "post",
    path: "/login",
    tags: TAG,
    summary: "Sign in with email and password",
    description:
      "An unknown email and a wrong password get the same 401 after the same work. Five attempts on one account from one client address (IPv6: its /64) in 15 minutes lock that client out of the account until the window ends (429 with Retry-After); a success clears the count. An account takes at most 100 attempts an hour from everywhere; past that, only addresses it signed in from before get through. One address may make 30 attempts in 5 minutes across accounts. With a second factor (TOTP or a passkey), the right password answers `{mfaRequired, mfaToken, expiresIn, methods}` instead of tokens, and `POST /api/auth/login/mfa` finishes the login.",
    request: { body: jsonBody(LoginBody) },
    responses: {
      200: jsonResponse(
        z.union([SessionTokens, MfaChallenge]),
        "Signed in (session cookie set), or, with MFA on, the challenge for /api/auth/login/mfa",
      ),
      ...errorResponses(400, 401, 413, 429),
    },
  }),
  async (c) => {
    const { email, password } = c.req.valid("json");
    const db = c.get("db");
    await admitLoginAttempt(c, email);
    await bootstrapAdminOnLogin(db, c.get("config"), c.get("audit"), email, password);

    const user = await findUserByEmail(db, email);
    // An account without a password (created through a provider) costs the same as an unknown one.
    const check = await verifyPassword(password, user && hasPassword(user) ? user.passwordHash : await decoyPasswordHash());
    if (!user || !check.valid || user.disabledAt !== null) {
      await c.get("audit").record({
        type: "login.failed",
        subject: user?.id ?? (await emailSubject(email)),
        details: { reason: !user ? "unknown_email" : user.disabledAt !== null ? "disabled" : "wrong_password" },
      });
      throw new ApiError("invalid_credentials", INVALID_CREDENTIALS, { "WWW-Authenticate": 'Bearer realm="heady"' });
    }
    if (check.needsRehash) await updatePasswordHash(db, user.id, await hashPassword(password));
    const methods = await mfaMethods(c, user.id);
    if (methods.length > 0) return c.json(await mfaChallengeResponse(c, user, methods, PASSWORD_SIGN_IN), 200);
    await forgetLoginFailures(c, email);
    const body = await startSession(c, user, PASSWORD_SIGN_IN);
    await recordWithReceiptHeader(c, { type: "login.succeeded", subject: user.id, details: { rehashed: check.needsRehash } });
    return c.json(body, 200);
  },
);

authRoutes.openapi(
  createRoute({
    method: "post",
    path: "/refresh",
    tags: TAG,
    summary: "Rotate a refresh token",
    description:
      "Each refresh token works once. Presenting one that was already rotated is treated as theft (RFC 9700 §4.14.2): the whole family and its session are revoked. Of concurrent refreshes with one token exactly one succeeds, so clients must serialise refreshes.",
    request: { body: jsonBody(RefreshBody) },
    responses: { 200: jsonResponse(RefreshedTokens, "New access and refresh tokens"), ...errorResponses(400, 401, 429) },
  }),
  async (c) => {
    const { refreshToken } = c.req.valid("json");
    const db = c.get("db");
    await consumeRateLimit(c.env, REFRESH_PER_IP, clientKey(c));
    const result = await rotateRefreshToken(db, refreshToken);
    if (result.outcome === "reused") {
      evictCachedSession(result.sessionId);
      await c.get("audit").record({
        type: "refresh.reuse_detected",
        subject: result.userId,
        details: { sessionId: result.sessionId },
      });
    }
    const live = result.outcome === "rotated" ? await findLiveSession(db, result.sessionId) : undefined;
    if (result.outcome !== "rotated" || !live) {
      if (result.outcome === "invalid") await c.get("audit").recordCoalesced({ type: "refresh.failed" });
      throw new ApiError("invalid_refresh_token", "The refresh token is invalid, expired or revoked.");
    }
    const access = await issueAccessToken(c.get("config"), {
      userId: live.user.id,
      email: live.user.email,
      role: live.user.role,
      sessionId: live.session.id,
      emailVerified: isEmailVerified(live.user),
    });
    await c.get("audit").record({ type: "token.refreshed", subject: live.user.id, details: { sessionId: live.session.id } });
    return c.json({ accessToken: access.token, refreshToken: result.refreshToken, expiresIn: access.expiresIn }, 200);
  },
);

authRoutes.openapi(
  createRoute({
    method: "post",
    path: "/logout",
    tags: TAG,
    summary: "End the session",
    description: "Revokes the session, its refresh family and every access token issued for it, and clears the cookie.",
    middleware: [authenticate(ROUTE_CREDENTIALS.logout)] as const,
    responses: { 204: { description: "Signed out" }, ...errorResponses(400, 401, 403) },
  }),
  async (c) => {
    const principal = c.get("principal");
    // ROUTE_CREDENTIALS.logout admits sessions only; this narrows the type.
    if (principal.kind !== "access_token" && principal.kind !== "session_cookie") throw new Error("logout without a session");
    await revokeSession(c.get("db"), principal.sessionId);
    evictCachedSession(principal.sessionId);
    clearSessionCookie(c);
    await c.get("audit").record({
      type: "logout",
      subject: principal.userId,
      details: { sessionId: principal.sessionId },
    });
    return c.body(null, 204);
  },
);

authRoutes.openapi(
  createRoute({
    method: "get",
    path: "/me",
    tags: TAG,
    summary: "The caller's profile",
    middleware: [authenticate(ROUTE_CREDENTIALS.profile)] as const,
    responses: { 200: jsonResponse(User.openapi("Profile"), "Profile"), ...errorResponses(401, 403) },
  }),
  async (c) => {
    const principal = c.get("principal");
    if (principal.kind === "widget_token" && principal.sessionId === null) {
      throw new ApiError("forbidden", "A guest widget session has no profile.");
    }
    const user = await findUserById(c.get("db"), principal.userId);
    if (!user) throw new ApiError("unauthorized", "The account no longer exists.");
    return c.json(publicProfile(user), 200);
  },
);

authRoutes.openapi(
  createRoute({
    method: "get",
    path: "/verify",
    tags: TAG,
    summary: "Verify a credential",
    description:
      "Accepts every kind of credential: `Authorization: Bearer <access token | PQC token | reference>`, `X-API-Key: hdy_…`, `X-Heady-PQC-Token` or the session cookie, and answers who it belongs to, or 401. An access token is checked for signature, type, issuer, audience and expiry (RFC 8725), and its session must still stand. An API key is checked against its checksum, then its SHA-256 in D1, on every request, so a revocation applies to the next request.",
    middleware: [authenticate(ROUTE_CREDENTIALS.verify)] as const,
    responses: { 200: jsonResponse(Verification, "The credential is valid"), ...errorResponses(401) },
  }),
  (c) => {
    const principal = c.get("principal");
    const common = { valid: true as const, sub: principal.userId, role: principal.role, email: principal.email, exp: principal.expiresAt };
    switch (principal.kind) {
      case "api_key":
        return c.json({ ...common, kind: principal.kind, keyId: principal.keyId, scopes: principal.scopes }, 200);
      case "pqc_token":
        return c.json(
          {
            ...common,
            kind: principal.kind,
            service: principal.service,
            operation: principal.operation,
            permissions: principal.permissions,
            jti: principal.jti,
            reference: principal.viaReference,
          },
          200,
        );
      case "widget_token":
        return c.json({ ...common, kind: principal.kind, origin: principal.origin, sid: principal.sessionId, jti: principal.jti }, 200);
      default:
        return c.json({ ...common, kind: principal.kind, sid: principal.sessionId }, 200);
    }
  },
);
