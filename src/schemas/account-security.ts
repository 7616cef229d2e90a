import { z } from "@hono/zod-openapi";
import { EmailAddress, Password } from "./auth";

/** A mailed token as the link's fragment carries it (43 base64url characters; anything else is simply invalid). */
const EmailToken = z.string().min(1).max(128).openapi({ example: "Qm9vdHN0cmFwLXRva2VuLWZvci1kb2NzLW9ubHktMTIz" });

export const VerifyEmailBody = z.object({ token: EmailToken }).openapi("VerifyEmailBody");
export const EmailVerified = z.object({ emailVerified: z.literal(true) }).openapi("EmailVerified");

export const ForgotPasswordBody = z.object({ email: EmailAddress }).openapi("ForgotPasswordBody");
export const ResetPasswordBody = z.object({ token: EmailToken, password: Password }).openapi("ResetPasswordBody");
export const ChangePasswordBody = z.object({ currentPassword: Password, newPassword: Password }).openapi("ChangePasswordBody");

/** The one answer to a reset request, whether or not the address has an account. */
export const Accepted = z.object({ message: z.string() }).openapi("Accepted");

export const DeviceSession = z
  .object({
    id: z.string(),
    current: z.boolean().openapi({ description: "True for the session this request came with" }),
    createdAt: z.string(),
    lastSeenAt: z.string().nullable().openapi({ description: "The last sign-in or token refresh of the session" }),
    userAgent: z.string().nullable(),
    ipPrefix: z.string().nullable().openapi({ description: "The network signed in from: IPv4 /24 or IPv6 /48", example: "203.0.113.0/24" }),
  })
  .openapi("DeviceSession");

export const DeviceSessionList = z.object({ sessions: z.array(DeviceSession) }).openapi("DeviceSessionList");
export const SessionIdParam = z.object({ id: z.uuid() });
export const RevokedCount = z.object({ revoked: z.number().int() }).openapi("RevokedCount");

export const OutboxQuery = z.object({ to: EmailAddress });
export const OutboxMessages = z
  .object({
    messages: z.array(z.object({ id: z.string(), to: z.string(), subject: z.string(), text: z.string(), html: z.string(), createdAt: z.string() })),
  })
  .openapi("OutboxMessages");
