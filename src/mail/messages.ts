import type { MailMessage } from "./message";

/** The hosted pages a mailed link opens; the token rides in the fragment, which no server or Referer sees. */
export const VERIFY_EMAIL_PAGE_PATH = "/account/verify-email";
export const RESET_PASSWORD_PAGE_PATH = "/account/reset-password";

/** The link a mail carries: `<publicUrl><page>#token=<token>`. */
export function emailTokenLink(publicUrl: string, page: string, token: string): string {
  return `${publicUrl}${page}#token=${encodeURIComponent(token)}`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** Plain text and the same words as HTML; the link is the only thing that varies, and no message holds a password. */
function message(to: string, subject: string, lines: { intro: string; action: string; link: string; outro: string }): MailMessage {
  const text = `${lines.intro}\n\n${lines.action}:\n${lines.link}\n\n${lines.outro}\n`;
  const link = escapeHtml(lines.link);
  const html = `<!doctype html><html><body><p>${escapeHtml(lines.intro)}</p><p><a href="${link}">${escapeHtml(lines.action)}</a></p><p>${link}</p><p>${escapeHtml(lines.outro)}</p></body></html>`;
  return { to, subject, text, html };
}

export function verificationMessage(to: string, link: string): MailMessage {
  return message(to, "Confirm your email address", {
    intro: "Please confirm that this address belongs to your HeadyKey account.",
    action: "Confirm your email address",
    link,
    outro: "The link works once, for 24 hours. If you did not create an account, ignore this message.",
  });
}

export function passwordResetMessage(to: string, link: string): MailMessage {
  return message(to, "Reset your password", {
    intro: "Someone asked to reset the password of your HeadyKey account.",
    action: "Choose a new password",
    link,
    outro:
      "The link works once, for 15 minutes, and signs you out everywhere. If you did not ask for it, ignore this message: your password stays as it is.",
  });
}
