import { sha256Hex } from "../crypto/digest";
import { fromBase64Url, toBase64Url, utf8 } from "../crypto/encoding";
import { hs256Key } from "../crypto/hmac";
import { type SigningKey, signJwt, TokenError, type VerificationKey, verifyJwt } from "../crypto/jwt";
import type { Config } from "../env";
import { isRole, type Role } from "../identity/roles";
import { WIDGET_TOKEN_MAX_TTL_SECONDS } from "./lifetime";

/**
 * Widget tokens: HS256 JWTs of their own kind (`typ: widget+jwt`, `kid` `wt-…`, audience
 * `heady-widget`), under a key derived from `JWT_SECRET` for this purpose alone. The `typ`, the
 * `kid` format and the key each keep them from passing as access tokens, and access tokens from
 * passing as them.
 */
export const WIDGET_TOKEN_TYP = "widget+jwt";
export const WIDGET_AUDIENCE = "heady-widget";
const WIDGET_TOKEN_KID = /^wt-[0-9a-f]{16}$/;
/** The `sub` of a guest widget: `guest:` and 22 base64url characters (128 random bits). */
export const GUEST_PREFIX = "guest:";

export function newGuestSubject(): string {
  return `${GUEST_PREFIX}${toBase64Url(crypto.getRandomValues(new Uint8Array(16)))}`;
}

export interface WidgetSubject {
  /** A user id, or `guest:<random>` for a guest. */
  sub: string;
  role: Role;
  /** The exact origin the widget was started from; the token works only from there. */
  origin: string;
  /** The signed-in parent session; absent for a guest. */
  sessionId?: string | undefined;
}

export interface WidgetClaims extends WidgetSubject {
  jti: string;
  expiresAt: number;
}

// Shared across requests as a promise: safe, since it waits on WebCrypto only, no I/O (src/platform/single-flight.ts says why I/O differs).
const keys = new Map<string, Promise<SigningKey & VerificationKey>>();

/** The widget key: HMAC-SHA256 of a fixed label under `JWT_SECRET` (a key no access token is signed with), imported once per isolate. */
function widgetKey(secret: string): Promise<SigningKey & VerificationKey> {
  let key = keys.get(secret);
  if (!key) {
    key = (async () => {
      const master = await crypto.subtle.importKey("raw", fromBase64Url(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
      const derived = toBase64Url(new Uint8Array(await crypto.subtle.sign("HMAC", master, utf8("headykey:widget-token-key:v1"))));
      const digest = await sha256Hex(`headykey:widget-token-kid:${derived}`);
      return hs256Key(`wt-${digest.slice(0, 16)}`, derived);
    })();
    keys.set(secret, key);
  }
  return key;
}

/** Issues a widget token for `subject`, living `WIDGET_SESSION_TTL_SECONDS`. */
export async function issueWidgetToken(config: Config, subject: WidgetSubject): Promise<{ token: string; expiresIn: number; jti: string }> {
  const now = Math.floor(Date.now() / 1000);
  const jti = crypto.randomUUID();
  const claims: Record<string, unknown> = {
    iss: config.issuer,
    aud: WIDGET_AUDIENCE,
    sub: subject.sub,
    role: subject.role,
    origin: subject.origin,
    ...(subject.sessionId === undefined ? {} : { sid: subject.sessionId }),
    jti,
    iat: now,
    exp: now + config.widgetSessionTtlSeconds,
  };
  const token = await signJwt(claims, await widgetKey(config.jwtSecret), WIDGET_TOKEN_TYP);
  return { token, expiresIn: config.widgetSessionTtlSeconds, jti };
}

/** Verifies a widget token's signature and claims (RFC 8725, one key, exact `kid`); its origin and session are the caller's to check. */
export async function verifyWidgetToken(config: Config, token: string): Promise<WidgetClaims> {
  const key = await widgetKey(config.jwtSecret);
  const claims = await verifyJwt(token, {
    typ: WIDGET_TOKEN_TYP,
    issuer: config.issuer,
    audience: WIDGET_AUDIENCE,
    kidPattern: WIDGET_TOKEN_KID,
    key: (kid) => (kid === key.kid ? key : undefined),
    requiredClaims: ["sub", "role", "origin", "jti"],
    maxLifetimeSeconds: WIDGET_TOKEN_MAX_TTL_SECONDS,
  });
  const { sub, role, origin, sid, jti, exp } = claims;
  if (
    typeof sub !== "string" ||
    typeof origin !== "string" ||
    typeof jti !== "string" ||
    !isRole(role) ||
    (sid !== undefined && typeof sid !== "string")
  ) {
    throw new TokenError("bad_claims");
  }
  // A guest has no session and no role above guest; a signed-in widget always names its session.
  const guest = sub.startsWith(GUEST_PREFIX);
  if (guest !== (sid === undefined) || (guest && role !== "guest")) throw new TokenError("bad_claims");
  return { sub, role, origin, sessionId: sid, jti, expiresAt: exp };
}
