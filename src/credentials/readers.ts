import type { Context } from "hono";
import { invalidApiKey, verifyApiKey } from "../api-keys/verifier";
import type { AppEnv } from "../context";
import { sha256Hex } from "../crypto/digest";
import { peekHeader, TokenError } from "../crypto/jwt";
import { ApiError } from "../errors";
import { lowerRole } from "../identity/roles";
import { readSessionCookie } from "../identity/session-cookie";
import { presentedPqcCredential, verifyPqcCredential } from "../pqc/credential";
import { REFERENCE_PATTERN } from "../pqc/references";
import { PQC_TOKEN_TYP } from "../pqc/token";
import { assertWidgetOrigin } from "../widget/origin";
import { verifyWidgetToken, WIDGET_TOKEN_TYP } from "../widget/token";
import { verifyAccessToken } from "./access-token";
import type { Principal } from "./principal";
import { liveApiKey, liveSession, liveSessionByCookieHash } from "./revocable-state";
import type { StateFreshness } from "./route-credentials";

/**
 * The verifier seam. Each credential reader looks for one kind of credential: it returns
 * undefined when that kind is absent, a principal when it verifies, and throws when it is
 * present but invalid (a bad credential never falls through to the next kind).
 */
type CredentialReader = (c: Context<AppEnv>, state: StateFreshness) => Promise<Principal | undefined>;

export function invalidToken(message = "The access token is invalid, expired or revoked."): ApiError {
  return new ApiError("invalid_token", message, { "WWW-Authenticate": 'Bearer error="invalid_token"' });
}

function bearerToken(c: Context<AppEnv>): string | undefined {
  const header = c.req.header("Authorization");
  if (header === undefined) return undefined;
  const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(header);
  if (!match) throw invalidToken("The Authorization header must be `Bearer <token>`.");
  return match[1];
}

/**
 * The (unverified) header `typ` of the request's bearer token, decoded once per request: the access
 * token and widget readers both route on it, and `/api/auth/verify` is the hot path.
 */
const bearerTypes = new WeakMap<Request, unknown>();
function bearerTyp(c: Context<AppEnv>, token: string): unknown {
  const request = c.req.raw;
  if (!bearerTypes.has(request)) bearerTypes.set(request, peekHeader(token)?.typ);
  return bearerTypes.get(request);
}

/** A bearer access token; PQC tokens, references and widget tokens in `Authorization` belong to their own readers. */
const accessTokenReader: CredentialReader = async (c, state) => {
  const token = bearerToken(c);
  if (token === undefined || REFERENCE_PATTERN.test(token)) return undefined;
  const typ = bearerTyp(c, token);
  if (typ === PQC_TOKEN_TYP || typ === WIDGET_TOKEN_TYP) return undefined;
  let claims;
  try {
    claims = await verifyAccessToken(c.get("config"), token);
  } catch (error) {
    if (error instanceof TokenError) throw invalidToken();
    throw error;
  }
  // The signature says who; the session row says whether that sign-in still stands (logout, reuse
  // detection and disabling the account revoke it: here at once, elsewhere within the staleness bound).
  const live = await liveSession(c, claims.sessionId, state);
  if (!live || live.user.id !== claims.userId) throw invalidToken();
  return {
    kind: "access_token",
    userId: claims.userId,
    email: claims.email,
    // The row is read anyway, so a demotion applies as a revocation does; a promotion waits for the next token.
    role: lowerRole(claims.role, live.user.role),
    sessionId: claims.sessionId,
    authenticatedAt: live.session.authenticatedAt,
    expiresAt: claims.expiresAt,
  };
};

/**
 * A bearer widget token, from its own origin only. A signed-in person's widget stands on its parent
 * session exactly as an access token does (logout ends both), at the lower of its role and the
 * account's; a guest's has no account behind it.
 */
const widgetTokenReader: CredentialReader = async (c, state) => {
  const token = bearerToken(c);
  if (token === undefined || bearerTyp(c, token) !== WIDGET_TOKEN_TYP) return undefined;
  let claims;
  try {
    claims = await verifyWidgetToken(c.get("config"), token);
  } catch (error) {
    if (error instanceof TokenError) throw invalidToken("The widget token is invalid, expired or revoked.");
    throw error;
  }
  assertWidgetOrigin(c, claims.origin);
  const widget = { kind: "widget_token" as const, origin: claims.origin, jti: claims.jti, expiresAt: claims.expiresAt };
  if (claims.sessionId === undefined) return { ...widget, userId: claims.sub, email: "", role: "guest", sessionId: null };
  const live = await liveSession(c, claims.sessionId, state);
  if (!live || live.user.id !== claims.sub) throw invalidToken("The widget token is invalid, expired or revoked.");
  return {
    ...widget,
    userId: live.user.id,
    email: live.user.email,
    role: lowerRole(claims.role, live.user.role),
    sessionId: claims.sessionId,
  };
};

/** Methods that change nothing (RFC 9110 §9.2.1). */
const SAFE_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * A browser attaches the cookie on its own, so a change made with it must show that one of our own
 * pages asked: browsers send Origin with every POST, PUT, PATCH and DELETE, same-origin fetches
 * included. cors() already refuses a foreign Origin; this also refuses a missing one and an
 * allowlisted sibling origin (same site, so the SameSite cookie rides along), whose clients send
 * a bearer token instead. Here, in the one cookie reader, it covers every authenticated route.
 */
function assertCookieChangeFromOwnOrigin(c: Context<AppEnv>): void {
  if (SAFE_METHODS.has(c.req.method)) return;
  if (c.req.header("Origin") === new URL(c.req.url).origin) return;
  throw new ApiError(
    "origin_not_allowed",
    "A change made with the session cookie must come from this service's own pages; other clients send a bearer token.",
  );
}

const sessionCookieReader: CredentialReader = async (c, state) => {
  const value = readSessionCookie(c);
  if (value === undefined) return undefined;
  assertCookieChangeFromOwnOrigin(c);
  const live = await liveSessionByCookieHash(c, await sha256Hex(value), state);
  if (!live) throw new ApiError("unauthorized", "The session has ended; sign in again.");
  return {
    kind: "session_cookie",
    userId: live.user.id,
    email: live.user.email,
    role: live.user.role,
    sessionId: live.session.id,
    authenticatedAt: live.session.authenticatedAt,
    expiresAt: Math.floor(Math.min(live.session.cookieExpiresAt, live.session.expiresAt) / 1000),
  };
};

/** Query parameters that, carrying a key, would end up in access logs and browser history. */
const KEY_QUERY_PARAMS = ["api_key", "apikey", "key", "access_token", "token"];

/** Refuses credentials in the URL outright (they leak through logs), whatever else the request carries. */
const credentialInQueryReader: CredentialReader = async (c) => {
  // Most requests have no query string: skip parsing the URL for them (it was the largest share of
  // the verify route's own CPU in the profile, BENCHMARKS.md).
  if (!c.req.url.includes("?")) return undefined;
  const params = new URL(c.req.url).searchParams;
  for (const [name, value] of params) {
    if (KEY_QUERY_PARAMS.includes(name.toLowerCase()) || value.startsWith("hdy_")) {
      throw new ApiError("invalid_request", "Credentials are not accepted in the query string; send the key in X-API-Key.");
    }
  }
  return undefined;
};

/** A PQC token or reference, in `X-Heady-PQC-Token` or as a bearer token. */
const pqcReader: CredentialReader = async (c) => {
  const presented = presentedPqcCredential(c);
  return presented === undefined ? undefined : verifyPqcCredential(c, presented);
};

const apiKeyReader: CredentialReader = async (c, state) => {
  const key = c.req.header("X-API-Key");
  if (key === undefined) return undefined;
  if (key.length > 128) throw invalidApiKey();
  return verifyApiKey(
    c.get("config"),
    c.get("db"),
    key,
    c.get("audit"),
    (work) => c.executionCtx.waitUntil(work),
    (hash, isUsable) => liveApiKey(c, hash, isUsable, state),
  );
};

/** Explicit headers first (bearer, then API key): an explicit credential wins over an ambient cookie. */
const READERS: readonly CredentialReader[] = [
  credentialInQueryReader,
  accessTokenReader,
  widgetTokenReader,
  pqcReader,
  apiKeyReader,
  sessionCookieReader,
];

/**
 * Verifies whichever credential the request carries; undefined when it carries none. `state` says
 * whether a session's or key's state may come from the isolate's bounded cache (see route-credentials.ts).
 */
export async function verifyCredential(c: Context<AppEnv>, state: StateFreshness): Promise<Principal | undefined> {
  for (const read of READERS) {
    const principal = await read(c, state);
    if (principal) return principal;
  }
  return undefined;
}
