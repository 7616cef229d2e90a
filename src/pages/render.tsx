import type { Context } from "hono";
import type { JSX } from "hono/jsx/jsx-runtime";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { newNonce, pageHeaders } from "./security";

/**
 * Renders a page with a fresh nonce, which goes both into its CSP header and onto its scripts.
 * `headers` override the page headers for one page (the consent page's referrer policy).
 */
export async function renderPage(
  c: Context,
  page: (nonce: string) => JSX.Element,
  status: ContentfulStatusCode = 200,
  headers: Record<string, string> = {},
): Promise<Response> {
  const nonce = newNonce();
  return c.html(`<!doctype html>${await page(nonce)}`, status, { ...pageHeaders(nonce), ...headers });
}
