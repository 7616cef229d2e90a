import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { confirmMailedAddress } from "../account-security/address-confirmation";
import { EmailVerified, VerifyEmailBody } from "../account-security/schemas";
import type { AppEnv } from "../context";
import { evictCachedUser } from "../credentials/revocable-state";
import { ROUTE_CREDENTIALS } from "../credentials/route-credentials";
import { callerAccount } from "../credentials/session-principal";
import { ApiError } from "../errors";
import { claimEmailTokenStatement, findLiveEmailToken } from "../identity/email-tokens";
import { sendVerificationMail } from "../identity/mailed-tokens";
import { isEmailVerified } from "../identity/users";
import { authenticate } from "../middleware/authenticate";
import { validationHook } from "../middleware/validation";
import { clientIpKey, consumeRateLimit, EMAIL_TOKEN_PER_IP, VERIFICATION_RESEND_PER_USER } from "../rate-limit/limits";
import { errorResponses, jsonBody, jsonResponse } from "../schemas/common";

/** Email verification: registration mails a link; these routes confirm it and send it again. */
export const emailVerificationRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

const TAG = ["Account security"];
const INVALID_LINK = "The link is invalid, expired or already used.";

emailVerificationRoutes.openapi(
  createRoute({
    method: "post",
    path: "/verify-email",
    tags: TAG,
    summary: "Confirm an email address with the mailed token",
    description:
      "The token comes from the link registration (or a resend) mailed, in its fragment (`#token=…`). It works once, for 24 hours, and only while the account still has the address it was sent to. Needs no session: the token is the proof.",
    request: { body: jsonBody(VerifyEmailBody) },
    responses: { 200: jsonResponse(EmailVerified, "The address is verified"), ...errorResponses(400, 413, 429) },
  }),
  async (c) => {
    const { token } = c.req.valid("json");
    const db = c.get("db");
    await consumeRateLimit(c.env, EMAIL_TOKEN_PER_IP, clientIpKey(c.get("meta")));
    const row = await findLiveEmailToken(db, "verify_email", token);
    if (!row) throw new ApiError("invalid_email_token", INVALID_LINK);
    const [claimed] = await claimEmailTokenStatement(db, row, Date.now());
    if (!claimed || !(await confirmMailedAddress(c, row.userId, row.email))) throw new ApiError("invalid_email_token", INVALID_LINK);
    // Access tokens issued from now on carry email_verified; cached sessions would still say false.
    evictCachedUser(row.userId);
    await c.get("audit").record({ type: "email.verified", subject: row.userId });
    return c.json({ emailVerified: true as const }, 200);
  },
);

emailVerificationRoutes.openapi(
  createRoute({
    method: "post",
    path: "/verify-email/resend",
    tags: TAG,
    summary: "Mail a new verification link",
    description: "At most 3 an hour per account. The new link replaces every earlier one. 409 when the address is already verified.",
    middleware: [authenticate(ROUTE_CREDENTIALS.emailVerification)] as const,
    responses: { 202: { description: "A new link is on its way" }, ...errorResponses(401, 403, 409, 429) },
  }),
  async (c) => {
    const user = await callerAccount(c);
    if (isEmailVerified(user)) throw new ApiError("conflict", "The address is already verified.");
    await consumeRateLimit(c.env, VERIFICATION_RESEND_PER_USER, user.id);
    await sendVerificationMail(c, user);
    return c.body(null, 202);
  },
);
