import { BROWSER_BINDING_COOKIE } from "../../src/providers/browser-binding";
import { parseSetCookie } from "./cookies";
import { randomIp } from "./fresh";
import type { ApiResponse } from "./http";
import { request } from "./worker";

/** A browser, as far as provider sign-in sees one: its binding cookie, its session cookie, its address. */
export interface Browser {
  ip: string;
  cookies: Map<string, string>;
}

export function newBrowser(): Browser {
  return { ip: randomIp(), cookies: new Map() };
}

function cookieHeader(browser: Browser): Record<string, string> {
  const pairs = [...browser.cookies].map(([name, value]) => `${name}=${value}`);
  return pairs.length ? { Cookie: pairs.join("; ") } : {};
}

function keepCookies(browser: Browser, response: ApiResponse): void {
  for (const header of response.headers.getSetCookie()) {
    const cookie = parseSetCookie(header);
    if (cookie.attributes.get("max-age") === "0") browser.cookies.delete(cookie.name);
    else browser.cookies.set(cookie.name, cookie.value);
  }
}

/** A request to the Worker from this browser: its cookies go along, the ones it is given are kept. */
export async function browse(
  browser: Browser,
  method: string,
  path: string,
  options: { body?: unknown; rawBody?: BodyInit; headers?: Record<string, string> } = {},
) {
  const response = await request(method, path, { ...options, ip: browser.ip, headers: { ...cookieHeader(browser), ...options.headers } });
  keepCookies(browser, response);
  return response;
}

/** `POST /api/provider/start` from this browser; throws unless it answers an authorization URL. */
export async function startSignIn(
  browser: Browser,
  provider: string,
  extra: { redirectTo?: string; token?: string; path?: string } = {},
): Promise<URL> {
  const headers: Record<string, string> = extra.token ? { Authorization: `Bearer ${extra.token}` } : {};
  const response = await browse(browser, "POST", extra.path ?? "/api/provider/start", {
    body: { provider, redirectTo: extra.redirectTo },
    headers,
  });
  if (response.status !== 200) throw new Error(`start: ${response.status} ${response.text}`);
  return new URL(response.body.authorizationUrl);
}

/** What the user does at the (loopback) provider: signs in as `user`, which sends the browser back with a code. */
export async function approveAtProvider(authorizationUrl: URL, user: Record<string, string> = {}): Promise<URL> {
  const url = new URL(authorizationUrl);
  for (const [name, value] of Object.entries(user)) url.searchParams.set(name, value);
  const response = await fetch(url, { redirect: "manual" });
  const location = response.headers.get("location");
  if (response.status !== 302 || !location) throw new Error(`authorize: ${response.status} ${await response.text()}`);
  return new URL(location);
}

/** Follows the provider's redirect back to the Worker's callback, from this browser. */
export function returnToCallback(browser: Browser, callback: URL): Promise<ApiResponse> {
  return browse(browser, "GET", callback.pathname + callback.search);
}

/** The ticket in a successful callback's redirect. */
export function ticketOf(response: ApiResponse): string {
  const location = new URL(response.headers.get("location")!);
  return new URLSearchParams(location.hash.slice(1)).get("ticket")!;
}

/** The whole flow: start, approve as `user`, return; answers the callback's response. */
export async function signInWith(
  browser: Browser,
  provider: string,
  user: Record<string, string>,
  start: { redirectTo?: string; token?: string; path?: string } = {},
) {
  const callback = await approveAtProvider(await startSignIn(browser, provider, start), user);
  return returnToCallback(browser, callback);
}

export { BROWSER_BINDING_COOKIE };
