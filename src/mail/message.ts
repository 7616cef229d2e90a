/** One message: always both a plain-text and an HTML body. No message ever carries a password. */
export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
}
