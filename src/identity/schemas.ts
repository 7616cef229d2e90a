import { z } from "@hono/zod-openapi";
import { isWellFormedText, PASSWORD_MAX_CHARACTERS } from "../account-security/password-policy";
import { storableText } from "../schemas/text";
import { ROLES } from "./roles";

/** Emails are compared lower-cased; the policy module checks password strength after parsing. */
export const EmailAddress = z
  .email({ error: "email must be a valid address" })
  .max(254)
  .transform((email) => email.toLowerCase())
  .openapi({ example: "ada@example.com" });

// Length is checked in code points by the password policy; this only bounds the bytes we accept.
export const Password = z
  .string()
  .min(1)
  .max(PASSWORD_MAX_CHARACTERS * 4)
  .refine(isWellFormedText, "password must be well-formed Unicode text")
  .openapi({ example: "correct horse battery staple" });

/** An account's display name, however it arrives (registration, a provider's profile). */
export const UserDisplayName = storableText().trim().min(1).max(100);

export const RegisterBody = z
  .object({
    email: EmailAddress,
    password: Password,
    displayName: UserDisplayName.optional(),
  })
  .openapi("RegisterBody");

export const LoginBody = z.object({ email: EmailAddress, password: Password }).openapi("LoginBody");

export const RefreshBody = z
  .object({ refreshToken: z.string().min(1).max(256).openapi({ example: "9f…(68 hex characters)" }) })
  .openapi("RefreshBody");

export const User = z
  .object({
    id: z.string(),
    email: z.string(),
    role: z.enum(ROLES as [string, ...string[]]),
    displayName: z.string().nullable(),
    emailVerified: z.boolean().openapi({ description: "Whether the owner confirmed the address (a verification or reset link)" }),
    createdAt: z.string(),
  })
  .openapi("User");

export const SessionTokens = z
  .object({
    user: User,
    accessToken: z.string(),
    refreshToken: z.string(),
    expiresIn: z.number().int().openapi({ description: "Access token lifetime in seconds" }),
  })
  .openapi("SessionTokens");

export const RefreshedTokens = z
  .object({ accessToken: z.string(), refreshToken: z.string(), expiresIn: z.number().int() })
  .openapi("RefreshedTokens");

const VerificationCommon = {
  valid: z.literal(true),
  sub: z.string().openapi({ description: "The user id" }),
  role: z.enum(ROLES as [string, ...string[]]),
  email: z.string(),
  exp: z.number().int().nullable().openapi({ description: "Unix seconds; null for an API key without expiry" }),
};

export const Verification = z
  .discriminatedUnion("kind", [
    z.object({ ...VerificationCommon, kind: z.enum(["access_token", "session_cookie"]), sid: z.string() }),
    z.object({ ...VerificationCommon, kind: z.literal("api_key"), keyId: z.string(), scopes: z.array(z.string()) }),
    z.object({
      ...VerificationCommon,
      kind: z.literal("pqc_token"),
      service: z.string(),
      operation: z.string(),
      permissions: z.array(z.string()),
      jti: z.string(),
      reference: z.boolean().openapi({ description: "True when a reference was presented instead of the token" }),
    }),
    z.object({
      ...VerificationCommon,
      kind: z.literal("widget_token"),
      origin: z.string().openapi({ description: "The origin the widget token works from (the request's Origin matched it)" }),
      sid: z.string().nullable().openapi({ description: "The parent session; null for a guest" }),
      jti: z.string(),
    }),
  ])
  .openapi("Verification");
