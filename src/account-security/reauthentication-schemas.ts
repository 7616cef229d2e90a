import { z } from "@hono/zod-openapi";
import { Password } from "../identity/schemas";
import { TotpCode } from "./schemas";

export const ReauthenticateBody = z
  .object({
    password: Password.optional(),
    code: TotpCode.optional(),
  })
  .refine((body) => (body.password === undefined) !== (body.code === undefined), "send exactly one of password and code")
  .openapi("ReauthenticateBody");

export const Reauthenticated = z
  .object({
    authenticatedAt: z.string().openapi({ description: "When this session was last authenticated (ISO 8601)" }),
    recentUntil: z.string().openapi({ description: "Until when it may plant or remove a way in without proving it again" }),
  })
  .openapi("Reauthenticated");
