import { z } from "@hono/zod-openapi";
import { EmailAddress, Password } from "../identity/schemas";
import { storableText } from "../schemas/text";

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
    amr: z.array(z.string()).openapi({
      description: "How the person signed in, in RFC 8176 values (docs/oauth.md, 'Tokens'); empty for a provider sign-in",
      example: ["pwd", "otp", "mfa"],
    }),
  })
  .openapi("DeviceSession");

export const DeviceSessionList = z.object({ sessions: z.array(DeviceSession) }).openapi("DeviceSessionList");
export const SessionIdParam = z.object({ id: z.uuid() });
export const RevokedCount = z.object({ revoked: z.number().int() }).openapi("RevokedCount");

export const OutboxQuery = z.object({ to: EmailAddress });
export const OutboxMessages = z
  .object({
    messages: z.array(
      z.object({ id: z.string(), to: z.string(), subject: z.string(), text: z.string(), html: z.string(), createdAt: z.string() }),
    ),
  })
  .openapi("OutboxMessages");

export const TotpCode = z
  .string()
  .regex(/^\d{6}$/, "code must be 6 digits")
  .openapi({ example: "123456" });

export const TotpEnrolment = z
  .object({
    otpauthUri: z.string().openapi({ description: "For a QR code: otpauth://totp/…" }),
    secret: z.string().openapi({ description: "The same secret in base32, for typing in by hand" }),
  })
  .openapi("TotpEnrolment");
export const TotpCodeBody = z.object({ code: TotpCode }).openapi("TotpCodeBody");
export const RecoveryCodeList = z
  .object({ recoveryCodes: z.array(z.string()).openapi({ description: "Shown once; each works once" }) })
  .openapi("RecoveryCodeList");
export const MfaStatus = z.object({ totp: z.boolean(), recoveryCodesLeft: z.number().int() }).openapi("MfaStatus");

export const MfaChallenge = z
  .object({
    mfaRequired: z.literal(true),
    mfaToken: z.string().openapi({ description: "Single use, 5 minutes; send it with a code to /api/auth/login/mfa" }),
    expiresIn: z.number().int(),
    methods: z.array(z.enum(["totp", "recovery_code", "passkey"])),
  })
  .openapi("MfaChallenge");

export const MfaLoginBody = z
  .object({
    mfaToken: z.string().min(1).max(128),
    code: TotpCode.optional(),
    recoveryCode: z.string().min(1).max(32).optional(),
  })
  .refine((body) => (body.code === undefined) !== (body.recoveryCode === undefined), "send exactly one of code and recoveryCode")
  .openapi("MfaLoginBody");

/** A WebAuthn response as @simplewebauthn/browser (or navigator.credentials) produces it; the library checks its shape. */
const WebauthnResponse = z
  .record(z.string(), z.unknown())
  .openapi({ description: "The PublicKeyCredential as JSON (RegistrationResponseJSON or AuthenticationResponseJSON)" });

export const WebauthnOptions = z
  .object({
    challengeId: z.string(),
    options: z.record(z.string(), z.unknown()).openapi({ description: "For navigator.credentials.create()/get() (JSON form)" }),
  })
  .openapi("WebauthnOptions");
export const PasskeyRegistrationBody = z
  .object({ challengeId: z.uuid(), response: WebauthnResponse, name: storableText().trim().min(1).max(64).optional() })
  .openapi("PasskeyRegistrationBody");
export const PasskeyAssertionBody = z.object({ challengeId: z.uuid(), response: WebauthnResponse }).openapi("PasskeyAssertionBody");
export const PasskeySecondFactorBody = z
  .object({ mfaToken: z.string().min(1).max(128), challengeId: z.uuid(), response: WebauthnResponse })
  .openapi("PasskeySecondFactorBody");
export const PasskeyReauthenticationBody = z
  .object({ challengeId: z.uuid(), response: WebauthnResponse })
  .openapi("PasskeyReauthenticationBody");
export const MfaTokenBody = z.object({ mfaToken: z.string().min(1).max(128) }).openapi("MfaTokenBody");

export const Passkey = z
  .object({
    id: z.string(),
    name: z.string(),
    createdAt: z.string(),
    lastUsedAt: z.string().nullable(),
    backedUp: z.boolean(),
    deviceType: z.string(),
  })
  .openapi("Passkey");
export const PasskeyList = z.object({ passkeys: z.array(Passkey) }).openapi("PasskeyList");
export const PasskeyIdParam = z.object({ id: z.string().min(1).max(1024) });
