import { env, exports } from "cloudflare:workers";
import { issueAccessToken } from "../../src/credentials/access-token";
import { type Config, loadConfig } from "../../src/env";
import { SESSION_COOKIE } from "../../src/identity/session-cookie";

/** The validated test configuration, exactly as the Worker sees it. */
export function testConfig(): Config {
  return loadConfig(env);
}

/** Requests go to the issuer's origin (https://id.heady.test in vitest.config.ts), as real clients would. */
export const BASE_URL = new URL(testConfig().issuer).origin;
/** The two entries of ALLOWED_ORIGINS in vitest.config.ts. */
export const [ALLOWED_ORIGIN, OTHER_ALLOWED_ORIGIN] = [...testConfig().allowedOrigins] as [string, string];
export { SESSION_COOKIE };

/**
 * For tests that hash or verify many passwords: each costs a full PBKDF2 run (600,000 iterations),
 * which on a loaded machine can take most of a second.
 */
export const HASHING_HEAVY = { timeout: 60_000 };

export interface RequestOptions {
  /** Serialised as JSON with `Content-Type: application/json` unless `rawBody` is given. */
  body?: unknown;
  /** Sent as is; no Content-Type is added (set one in `headers`). */
  rawBody?: BodyInit;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** The value of the `__Host-heady_session` cookie. */
  cookie?: string;
  headers?: Record<string, string>;
  /** `CF-Connecting-IP`; a fresh random address when omitted, so rate limits never leak between tests. */
  ip?: string;
}

export interface ApiResponse<T = any> {
  status: number;
  /** The parsed JSON body; the raw text when it is not JSON; undefined when empty. */
  body: T;
  text: string;
  headers: Headers;
}

/** Calls the Worker's fetch handler inside workerd, the way a client on the network would. */
export async function request<T = any>(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
  const headers = new Headers(options.headers);
  if (!headers.has("CF-Connecting-IP")) headers.set("CF-Connecting-IP", options.ip ?? randomIp());
  if (options.token !== undefined) headers.set("Authorization", `Bearer ${options.token}`);
  if (options.cookie !== undefined) headers.set("Cookie", `${SESSION_COOKIE}=${options.cookie}`);
  let body: BodyInit | undefined = options.rawBody;
  if (body === undefined && options.body !== undefined) {
    body = JSON.stringify(options.body);
    if (!headers.has("Content-Type")) headers.set("Content-Type", "application/json");
  }
  // Redirects are answers to check, not to follow (provider sign-in answers 302s).
  return readResponse<T>(await exports.default.fetch(new Request(new URL(path, BASE_URL), { method, headers, body, redirect: "manual" })));
}

/** Reads a response once: JSON parsed where it is JSON, the raw text kept either way. */
export async function readResponse<T = any>(response: Response): Promise<ApiResponse<T>> {
  const text = await response.text();
  let parsed: unknown;
  if (text !== "") {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  return { status: response.status, body: parsed as T, text, headers: response.headers };
}

/** A fresh address per call: lower-case, valid, and with a local part no password will contain by accident. */
export function uniqueEmail(tag = "user"): string {
  return `${tag}-${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}@example.test`;
}

/** A random address in 10.0.0.0/8, so that per-IP rate limits of one test never touch another. */
export function randomIp(): string {
  const [a, b, c] = crypto.getRandomValues(new Uint8Array(3));
  return `10.${a}.${b}.${c}`;
}

/** A password that passes the policy: long, random, not common, unrelated to any email. */
export function strongPassword(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(9));
  return `orbit-${[...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("")}-lantern`;
}

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

export interface SignedIn {
  email: string;
  password: string;
  userId: string;
  accessToken: string;
  refreshToken: string;
  /** The session cookie's value. */
  cookie: string;
  response: ApiResponse;
}

function signedIn(email: string, password: string, response: ApiResponse, expected: number): SignedIn {
  if (response.status !== expected) {
    throw new Error(`expected ${expected}, got ${response.status}: ${response.text}`);
  }
  return {
    email,
    password,
    userId: response.body.user.id,
    accessToken: response.body.accessToken,
    refreshToken: response.body.refreshToken,
    cookie: sessionCookie(response.headers).value,
    response,
  };
}

/** Registers a fresh account (or the given one) and returns its first session; throws unless 201. */
export async function registerUser(
  options: { email?: string; password?: string; displayName?: string; ip?: string } = {},
): Promise<SignedIn> {
  const email = options.email ?? uniqueEmail();
  const password = options.password ?? strongPassword();
  const body: Record<string, string> = { email, password };
  if (options.displayName !== undefined) body.displayName = options.displayName;
  const response = await request("POST", "/api/auth/register", { body, ip: options.ip });
  return signedIn(email.toLowerCase(), password, response, 201);
}

/** Posts to /api/auth/login and returns the raw response, whatever it is. */
export function attemptLogin(email: string, password: string, options: Omit<RequestOptions, "body"> = {}): Promise<ApiResponse> {
  return request("POST", "/api/auth/login", { ...options, body: { email, password } });
}

/** Logs in and returns the new session; throws unless 200. */
export async function login(email: string, password: string, options: Omit<RequestOptions, "body"> = {}): Promise<SignedIn> {
  return signedIn(email.toLowerCase(), password, await attemptLogin(email, password, options), 200);
}

/** Posts a refresh token to /api/auth/refresh. */
export function refresh(refreshToken: string, options: Omit<RequestOptions, "body"> = {}): Promise<ApiResponse> {
  return request("POST", "/api/auth/refresh", { ...options, body: { refreshToken } });
}

/** Sets columns of a user row directly, for states no public route can reach yet (roles, disabling). */
export async function updateUser(userId: string, fields: { role?: string; disabled_at?: number | null; password_hash?: string }) {
  const entries = Object.entries(fields);
  const assignments = entries.map(([column]) => `${column} = ?`).join(", ");
  await env.DB.prepare(`UPDATE users SET ${assignments} WHERE id = ?`)
    .bind(...entries.map(([, value]) => value), userId)
    .run();
}

export interface UserRecord {
  id: string;
  email: string;
  password_hash: string;
  role: string;
  disabled_at: number | null;
}

export function findUser(email: string): Promise<UserRecord | null> {
  return env.DB.prepare("SELECT id, email, password_hash, role, disabled_at FROM users WHERE email = ?")
    .bind(email.toLowerCase())
    .first<UserRecord>();
}

export interface AuditRow {
  id: string;
  type: string;
  subject: string | null;
  actor: string | null;
  request_id: string | null;
  ip: string | null;
  user_agent: string | null;
  details: Record<string, unknown>;
  created_at: number;
}

interface LedgerNamespace {
  idFromName(name: string): DurableObjectId;
  get(id: DurableObjectId): { flush(): Promise<unknown> };
}

/** Asks the audit ledger, where there is one, to export what it holds to D1 now. */
async function flushAuditLedger(): Promise<void> {
  const ledger = (env as unknown as { LEDGER?: LedgerNamespace }).LEDGER;
  if (ledger) await ledger.get(ledger.idFromName("ledger")).flush();
}

async function queryAuditEvents(filter: Record<string, string | undefined>): Promise<AuditRow[]> {
  const clauses: string[] = [];
  const values: string[] = [];
  for (const [column, value] of Object.entries(filter)) {
    if (value === undefined) continue;
    clauses.push(`${column} = ?`);
    values.push(value);
  }
  const where = clauses.length ? `WHERE ${clauses.join(" AND ")}` : "";
  const { results } = await env.DB.prepare(`SELECT * FROM audit_events ${where} ORDER BY created_at, rowid`)
    .bind(...values)
    .all<Omit<AuditRow, "details"> & { details: string }>();
  return results.map((row) => ({ ...row, details: JSON.parse(row.details) as Record<string, unknown> }));
}

/**
 * Audit events in D1, oldest first, filtered by subject, type and/or ip. Events may be recorded in
 * the background, so with `atLeast` this waits (up to 5 s) until that many match before answering.
 */
export async function auditEvents(
  filter: { subject?: string; type?: string; ip?: string },
  { atLeast = 1 }: { atLeast?: number } = {},
): Promise<AuditRow[]> {
  const deadline = Date.now() + 5000;
  for (;;) {
    await flushAuditLedger();
    const rows = await queryAuditEvents(filter);
    if (rows.length >= atLeast || Date.now() > deadline) return rows;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** SHA-256 of a UTF-8 string, hex: how refresh tokens and cookies are stored at rest. */
export async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return [...digest].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** How the audit trail names an unknown account: a truncated SHA-256 of the address. */
export async function emailSubject(email: string): Promise<string> {
  return `email:${(await sha256Hex(email)).slice(0, 32)}`;
}

// ---------------------------------------------------------------------------------------------
// Forging JWTs for the security tests. Built by hand, not with jose, so that a test can produce
// exactly the malformed or hostile token it needs (alg none, extra header members, bad bytes).

export function base64url(input: Uint8Array | string): string {
  const bytes = typeof input === "string" ? new TextEncoder().encode(input) : input;
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function fromBase64url(text: string): Uint8Array<ArrayBuffer> {
  const padded = text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4);
  return Uint8Array.from(atob(padded), (char) => char.charCodeAt(0));
}

export type Signer = (signingInput: Uint8Array<ArrayBuffer>) => Promise<Uint8Array>;

/** HMAC-SHA256 with arbitrary key bytes: the real secret, or a public key used as an HMAC secret. */
export function hmacSigner(secret: Uint8Array<ArrayBuffer> | string): Signer {
  const keyBytes = typeof secret === "string" ? (new TextEncoder().encode(secret) as Uint8Array<ArrayBuffer>) : secret;
  return async (input) => {
    const key = await crypto.subtle.importKey("raw", keyBytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    return new Uint8Array(await crypto.subtle.sign("HMAC", key, input));
  };
}

/** An empty signature, as `alg: none` tokens carry. */
export const unsigned: Signer = async () => new Uint8Array(0);

/** Builds a compact JWS from any header and payload, signed by `signer`. */
export async function forgeJwt(
  header: Record<string, unknown>,
  payload: Record<string, unknown> | string,
  signer: Signer,
): Promise<string> {
  const encodedPayload = base64url(typeof payload === "string" ? payload : JSON.stringify(payload));
  const signingInput = `${base64url(JSON.stringify(header))}.${encodedPayload}`;
  const signature = await signer(new TextEncoder().encode(signingInput) as Uint8Array<ArrayBuffer>);
  return `${signingInput}.${base64url(signature)}`;
}

/** Flips one bit of the signature's first byte, keeping the token well-formed. */
export function flipSignatureByte(token: string, index = 0): string {
  const [header, payload, signature = ""] = token.split(".");
  const bytes = fromBase64url(signature);
  bytes[index] = bytes[index]! ^ 0x01;
  return `${header}.${payload}.${base64url(bytes)}`;
}

function decodeSegment(token: string, index: number): Record<string, unknown> {
  return JSON.parse(new TextDecoder().decode(fromBase64url(token.split(".")[index] ?? ""))) as Record<string, unknown>;
}

/** Decodes a compact JWS's protected header without verifying it. */
export function decodeHeader(token: string): Record<string, unknown> {
  return decodeSegment(token, 0);
}

/** Decodes a compact JWS's payload without verifying it. */
export function decodePayload(token: string): Record<string, unknown> {
  return decodeSegment(token, 1);
}

/** The access-token key as the Worker uses it: the `kid` it issues and the HMAC signer of `JWT_SECRET`. */
export async function accessTokenKey(): Promise<{ kid: string; sign: Signer }> {
  const config = testConfig();
  const { token } = await issueAccessToken(config, { userId: "probe", email: "probe@example.test", role: "guest", sessionId: "probe" });
  const kid = decodeHeader(token).kid;
  if (typeof kid !== "string") throw new Error("issued access token carries no kid");
  return { kid, sign: hmacSigner(fromBase64url(config.jwtSecret)) };
}

/** The claims the Worker puts in an access token for this session, with `overrides` applied (undefined deletes). */
export function accessClaims(
  session: { userId: string; email: string; sessionId: string; role?: string },
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  const config = testConfig();
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    iss: config.issuer,
    aud: config.accessTokenAudience,
    sub: session.userId,
    email: session.email,
    role: session.role ?? "user",
    sid: session.sessionId,
    jti: crypto.randomUUID(),
    iat: now,
    exp: now + 600,
    ...overrides,
  };
  for (const [name, value] of Object.entries(overrides)) if (value === undefined) delete claims[name];
  return claims;
}

/** The session id (`sid`) of a signed-in session, read from its access token. */
export function sessionIdOf(session: SignedIn): string {
  return decodePayload(session.accessToken).sid as string;
}

/** GET /api/auth/verify with a bearer token. */
export function verifyToken(token: string): Promise<ApiResponse> {
  return request("GET", "/api/auth/verify", { token });
}
