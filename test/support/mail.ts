import { request } from "./worker";

export interface OutboxMessage {
  id: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  createdAt: string;
}

/**
 * The mail the dev outbox holds for an address, newest first, read through `GET /api/dev/outbox`.
 * Some mail goes out after the response (password reset), so with `atLeast` this waits up to 5 s.
 */
export async function mailTo(email: string, { atLeast = 1 }: { atLeast?: number } = {}): Promise<OutboxMessage[]> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const response = await request("GET", `/api/dev/outbox?to=${encodeURIComponent(email)}`);
    if (response.status !== 200) throw new Error(`outbox answered ${response.status}: ${response.text}`);
    const messages = response.body.messages as OutboxMessage[];
    if (messages.length >= atLeast || Date.now() > deadline) return messages;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The token in a mailed link (`…#token=<token>`); throws when the message has none. */
export function tokenInMail(message: OutboxMessage): string {
  const match = /#token=([A-Za-z0-9_-]+)/.exec(message.text);
  if (!match) throw new Error(`no link in mail "${message.subject}"`);
  return match[1]!;
}

/** The token of the newest mail with this subject to the address, waiting for it if need be. */
export async function mailedToken(email: string, subject: string, { atLeast = 1 } = {}): Promise<string> {
  const messages = (await mailTo(email, { atLeast })).filter((message) => message.subject === subject);
  if (messages.length === 0) throw new Error(`no "${subject}" mail to ${email}`);
  return tokenInMail(messages[0]!);
}

export const VERIFY_SUBJECT = "Confirm your email address";
export const RESET_SUBJECT = "Reset your password";
