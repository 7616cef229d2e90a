import { toBase64Url } from "../crypto/encoding";

/** 128 random bits, fresh for every response (CSP3 asks for at least 128). */
export function newNonce(): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(16)));
}

/** The path of the one stylesheet every page links; `style-src 'self'` admits it and nothing inline. */
export const STYLESHEET_PATH = "/pages/style.css";

/**
 * The policy of every hosted page: scripts only with this response's nonce (no `'unsafe-inline'`,
 * no `eval`), styles only from our stylesheet, requests to this origin only, forms posting only
 * here, no `<base>`, and no framing (clickjacking).
 */
export function pageContentSecurityPolicy(nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join("; ");
}

/** The headers of every page response, beside the CSP; `no-store` comes with every response (`noStore()`). */
export function pageHeaders(nonce: string): Record<string, string> {
  return {
    "Content-Security-Policy": pageContentSecurityPolicy(nonce),
    // Mailed links carry tokens in the fragment, which Referer never has; send no Referer at all anyway.
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    // For browsers without CSP frame-ancestors.
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
  };
}
