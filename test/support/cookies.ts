import { SESSION_COOKIE } from "../../src/identity/session-cookie";

export { SESSION_COOKIE };

export interface CookieAttributes {
  name: string;
  value: string;
  /** Attribute names lower-cased; flag attributes map to "". */
  attributes: Map<string, string>;
}

/** Parses one Set-Cookie header value. */
export function parseSetCookie(header: string): CookieAttributes {
  const [pair = "", ...rest] = header.split(";").map((part) => part.trim());
  const eq = pair.indexOf("=");
  const attributes = new Map<string, string>();
  for (const attribute of rest) {
    const at = attribute.indexOf("=");
    if (at === -1) attributes.set(attribute.toLowerCase(), "");
    else attributes.set(attribute.slice(0, at).toLowerCase(), attribute.slice(at + 1));
  }
  return { name: pair.slice(0, eq), value: pair.slice(eq + 1), attributes };
}

/** Every Set-Cookie for the session cookie in a response. */
export function sessionCookies(headers: Headers): CookieAttributes[] {
  return headers
    .getSetCookie()
    .map(parseSetCookie)
    .filter((cookie) => cookie.name === SESSION_COOKIE);
}

/** The session cookie a response set; throws when it set none or several. */
export function sessionCookie(headers: Headers): CookieAttributes {
  const cookies = sessionCookies(headers);
  if (cookies.length !== 1) throw new Error(`expected one ${SESSION_COOKIE} Set-Cookie, got ${cookies.length}`);
  return cookies[0]!;
}
