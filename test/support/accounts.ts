import { env } from "cloudflare:workers";
import { sessionCookie } from "./cookies";
import { strongPassword, uniqueEmail } from "./fresh";
import type { ApiResponse, RequestOptions } from "./http";
import { decodePayload } from "./tokens";
import { request } from "./worker";

/**
 * For tests that hash or verify many passwords: each costs a full PBKDF2 run (600,000 iterations),
 * which on a loaded machine can take most of a second.
 */
export const HASHING_HEAVY = { timeout: 60_000 };

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

/** The session id (`sid`) of a signed-in session, read from its access token. */
export function sessionIdOf(session: SignedIn): string {
  return decodePayload(session.accessToken).sid as string;
}

/** A fresh account with the given role (set in D1; access tokens read the role at sign-in, so sign in again). */
export async function userWithRole(role: "guest" | "user" | "operator" | "admin"): Promise<SignedIn> {
  const account = await registerUser();
  if (role === "user") return account;
  await updateUser(account.userId, { role });
  return login(account.email, account.password);
}

/** Creates an API key for `owner` with these scopes (and role, default the route's) and returns the key itself. */
export async function apiKeyFor(owner: { accessToken: string }, scopes: string[], role?: string): Promise<string> {
  const created = await request("POST", "/api/auth/api-keys", {
    token: owner.accessToken,
    body: { description: "test key", scopes, role },
  });
  if (created.status !== 201) throw new Error(`API key creation answered ${created.status}: ${created.text}`);
  return created.body.key as string;
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
