import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { SESSION_COOKIE_TTL_MS } from "./sessions";

/** `__Host-` binds the cookie to this exact host, over HTTPS, for path `/` (RFC 6265bis). */
export const SESSION_COOKIE = "__Host-heady_session";

/** Sets a fresh session cookie; a new value on every login makes a planted value useless. */
export function setSessionCookie(c: Context, value: string): void {
  setCookie(c, SESSION_COOKIE, value, {
    httpOnly: true,
    secure: true,
    sameSite: "Strict",
    path: "/",
    maxAge: SESSION_COOKIE_TTL_MS / 1000,
  });
}

export function readSessionCookie(c: Context): string | undefined {
  return getCookie(c, SESSION_COOKIE);
}

export function clearSessionCookie(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, { httpOnly: true, secure: true, sameSite: "Strict", path: "/" });
}
