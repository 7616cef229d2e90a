/** Where mail goes: the D1 dev outbox, Cloudflare's `send_email` binding, or an HTTP email API. */
export type MailTransport = "outbox" | "send_email" | "http";

export interface MailConfig {
  transport: MailTransport;
  from: string;
  apiUrl?: string | undefined;
  apiKey?: string | undefined;
}
