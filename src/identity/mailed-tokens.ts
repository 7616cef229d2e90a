import type { Context } from "hono";
import type { AppEnv } from "../context";
import type { UserRow } from "../db/schema";
import { mailerFor } from "../mail/mailer";
import {
  emailTokenLink,
  passwordResetMessage,
  RESET_PASSWORD_PAGE_PATH,
  VERIFY_EMAIL_PAGE_PATH,
  verificationMessage,
} from "../mail/messages";
import { issueEmailToken } from "./email-tokens";

/** Issues a verification token for the user's address and mails its link. */
export async function sendVerificationMail(c: Context<AppEnv>, user: Pick<UserRow, "id" | "email">): Promise<void> {
  const token = await issueEmailToken(c.get("db"), "verify_email", user);
  const link = emailTokenLink(c.get("config").providers.publicUrl, VERIFY_EMAIL_PAGE_PATH, token);
  await mailerFor(c.env, c.get("config")).send(verificationMessage(user.email, link));
  await c.get("audit").record({ type: "email.verification_sent", subject: user.id });
}

/** Issues a reset token for the user's address and mails its link. */
export async function sendPasswordResetMail(c: Context<AppEnv>, user: Pick<UserRow, "id" | "email">): Promise<void> {
  const token = await issueEmailToken(c.get("db"), "reset_password", user);
  const link = emailTokenLink(c.get("config").providers.publicUrl, RESET_PASSWORD_PAGE_PATH, token);
  await mailerFor(c.env, c.get("config")).send(passwordResetMessage(user.email, link));
}

/**
 * Runs mail work after the response, logging (with the request id) rather than surfacing a failure:
 * for the answers that must not depend on whether, or how fast, mail went out.
 */
export function inBackground(c: Context<AppEnv>, work: () => Promise<void>): void {
  c.executionCtx.waitUntil(work().catch((error: unknown) => console.error(`[${c.get("requestId")}] background mail failed`, error)));
}
