import { database } from "../db/client";
import type { Bindings, Config } from "../env";
import { ApiError } from "../errors";
import type { MailConfig } from "./config";
import { insertOutboxMessage } from "./dev-outbox";
import type { MailMessage } from "./message";

/** The one seam mail goes through; the transport is chosen by `MAIL_TRANSPORT`. */
export interface Mailer {
  send(message: MailMessage): Promise<void>;
}

/** Local runs only (`npm run dev`, the tests): mail is kept in D1 and read at `GET /api/dev/outbox`. */
function outboxMailer(env: Bindings): Mailer {
  return {
    async send(message) {
      await insertOutboxMessage(database(env.DB), message);
    },
  };
}

/** Cloudflare Email Service: the `EMAIL` send_email binding's structured `send()`. */
function sendEmailMailer(env: Bindings, from: string): Mailer {
  return {
    async send(message) {
      if (!env.EMAIL) throw new ApiError("misconfigured", "MAIL_TRANSPORT=send_email needs the EMAIL send_email binding.");
      await env.EMAIL.send({ from, to: message.to, subject: message.subject, text: message.text, html: message.html });
    },
  };
}

/** An HTTP email API taking `{from, to, subject, text, html}` with a bearer key (Resend's shape, and many others'). */
function httpMailer(mail: MailConfig): Mailer {
  return {
    async send(message) {
      const response = await fetch(mail.apiUrl!, {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: `Bearer ${mail.apiKey}` },
        body: JSON.stringify({ from: mail.from, ...message }),
      });
      // The provider's answer may echo the address or the key's account: it is not passed on.
      if (!response.ok)
        throw new ApiError("unavailable", "The email service did not accept the message; try again later.", { "Retry-After": "60" });
    },
  };
}

/** The mailer the configuration names. */
export function mailerFor(env: Bindings, config: Config): Mailer {
  switch (config.mail.transport) {
    case "outbox":
      return outboxMailer(env);
    case "send_email":
      return sendEmailMailer(env, config.mail.from);
    case "http":
      return httpMailer(config.mail);
  }
}
