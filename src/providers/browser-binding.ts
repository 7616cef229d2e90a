import type { Context } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { constantTimeEqual, sha256Hex } from "../crypto/digest";
import { utf8 } from "../crypto/encoding";
import { randomBase64Url } from "../crypto/random";
import { OAUTH_FLOW_TTL_MS } from "./flow-store";

/**
 * Binds a flow's `state` to the browser that started it (RFC 9700 §4.7.1): the flow row holds the
 * hash of this cookie, so a state carried to another browser (login CSRF) fails. `__Host-`: this
 * host only, Secure, Path=/. SameSite=Lax, because the callback is a cross-site top-level GET;
 * None for providers that answer with a cross-site form POST (Apple), which Lax would not carry.
 */
export const BROWSER_BINDING_COOKIE = "__Host-heady_oauth";

/** The browser's binding value, kept if it already has one (so flows in two tabs both work), and its hash. */
export async function bindBrowser(c: Context, crossSitePost: boolean): Promise<string> {
  const value = readBinding(c) ?? randomBase64Url(32);
  setCookie(c, BROWSER_BINDING_COOKIE, value, {
    httpOnly: true,
    secure: true,
    sameSite: crossSitePost ? "None" : "Lax",
    path: "/",
    maxAge: OAUTH_FLOW_TTL_MS / 1000,
  });
  return sha256Hex(value);
}

function readBinding(c: Context): string | undefined {
  const value = getCookie(c, BROWSER_BINDING_COOKIE);
  return value && /^[A-Za-z0-9_-]{43}$/.test(value) ? value : undefined;
}

/** Whether this request comes from the browser whose binding hash the flow holds. */
export async function isSameBrowser(c: Context, browserHash: string): Promise<boolean> {
  const value = readBinding(c);
  if (!value) return false;
  return constantTimeEqual(utf8(await sha256Hex(value)), utf8(browserHash));
}
