import type { Context } from "hono";
import { findApiKeyByHash } from "../api-keys/store";
import type { AppEnv } from "../context";
import { type Database, database } from "../db/client";
import { findLiveSession, findLiveSessionByCookieHash } from "../identity/sessions";
import { RevocableStateCache } from "./revocable-state-cache";
import type { StateFreshness } from "./route-credentials";

/**
 * The revocable state behind access tokens, session cookies and API keys, read through per-isolate
 * caches bounded by `REVOCATION_MAX_STALENESS_SECONDS` (see revocable-state-cache.ts), and the one
 * place that evicts it when this isolate revokes something.
 *
 * Where the reads go: a first read in an isolate goes to the nearest D1 read replica (the Sessions
 * API's `first-unconstrained`), so it costs a local round trip rather than one to the primary's
 * region. A replica may lag, so its answer is dated half a bound early: the next use re-reads it from
 * the primary in the background. Background refreshes always read the primary, off the hot path.
 * Locally (wrangler dev, tests) there are no replicas, and both reads reach the one database.
 */
export type LiveSession = NonNullable<Awaited<ReturnType<typeof findLiveSession>>>;
export type LiveApiKey = NonNullable<Awaited<ReturnType<typeof findApiKeyByHash>>>;

const sessionsById = new RevocableStateCache<LiveSession>();
const sessionsByCookieHash = new RevocableStateCache<LiveSession>();
const apiKeysByHash = new RevocableStateCache<LiveApiKey>();

/** The staleness allowed for this read: none when the route needs the current state. */
function boundMs(c: Context<AppEnv>, state: StateFreshness): number {
  return state === "current" ? 0 : c.get("config").revocationMaxStalenessSeconds * 1000;
}

function waitUntil(c: Context<AppEnv>): (work: Promise<unknown>) => void {
  return (work) => c.executionCtx.waitUntil(work);
}

/** A drizzle client on a D1 session that may read from the nearest replica. */
function replica(c: Context<AppEnv>): Database {
  const session = c.env.DB.withSession("first-unconstrained");
  // A D1 session has the same query surface (prepare, batch) as the binding, which is all drizzle calls.
  return database(session as unknown as D1Database);
}

/** Reads `find` from a replica, dated half a bound early so that the primary confirms it on the next use. */
function fromReplica<V>(c: Context<AppEnv>, bound: number, find: (db: Database) => Promise<V | undefined>) {
  return async () => {
    const readAt = Date.now() - bound / 2;
    const value = await find(replica(c));
    return value === undefined ? undefined : { value, readAt };
  };
}

/** Strict mode (bound 0) reads the primary every time, as before this cache existed. */
function fromPrimary<V>(c: Context<AppEnv>, find: (db: Database) => Promise<V | undefined>) {
  return async () => {
    const value = await find(c.get("db"));
    return value === undefined ? undefined : { value };
  };
}

function readThrough<V>(
  c: Context<AppEnv>,
  state: StateFreshness,
  cache: RevocableStateCache<V>,
  key: string,
  find: (db: Database) => Promise<V | undefined>,
) {
  const bound = boundMs(c, state);
  const read = bound > 0 ? fromReplica(c, bound, find) : fromPrimary(c, find);
  return cache.get(key, bound, read, waitUntil(c), () => find(c.get("db")));
}

/** The live session with this id (with its user), within the staleness bound; undefined when it is not live. */
export async function liveSession(c: Context<AppEnv>, sessionId: string, state: StateFreshness): Promise<LiveSession | undefined> {
  const live = await readThrough(c, state, sessionsById, sessionId, (db) => findLiveSession(db, sessionId));
  // The row's own end is a fact of the cached row, so it holds to the millisecond even from the cache.
  return live && live.session.expiresAt > Date.now() ? live : undefined;
}

/** The live session a session cookie (by its SHA-256) belongs to, while the cookie is within its 8 hours. */
export async function liveSessionByCookieHash(
  c: Context<AppEnv>,
  cookieHash: string,
  state: StateFreshness,
): Promise<LiveSession | undefined> {
  const live = await readThrough(c, state, sessionsByCookieHash, cookieHash, (db) => findLiveSessionByCookieHash(db, cookieHash));
  const now = Date.now();
  return live && live.session.expiresAt > now && live.session.cookieExpiresAt > now ? live : undefined;
}

/**
 * The API key with this SHA-256, with its owner, within the staleness bound. Only usable keys are
 * cached (`isUsable`), so a revoked, expired or unknown key is read again on every attempt.
 */
export async function liveApiKey(
  c: Context<AppEnv>,
  keyHash: string,
  isUsable: (found: LiveApiKey) => boolean,
  state: StateFreshness,
): Promise<LiveApiKey | undefined> {
  // One read either way: an unusable row is handed back (the caller says why) but never cached.
  let unusable: LiveApiKey | undefined;
  const findUsable = async (db: Database) => {
    const found = await findApiKeyByHash(db, keyHash);
    if (found && !isUsable(found)) unusable = found;
    return found && isUsable(found) ? found : undefined;
  };
  const usable = await readThrough(c, state, apiKeysByHash, keyHash, findUsable);
  // A cached key can turn unusable by the clock alone (its expiry).
  if (usable && !isUsable(usable)) return usable;
  return usable ?? unusable;
}

/** Records in the cached key what this isolate just wrote (its last use), so it is not written again at once. */
export function noteApiKeyUse(keyHash: string, at: number): void {
  apiKeysByHash.update(keyHash, (found) => ({ ...found, key: { ...found.key, lastUsedAt: at } }));
}

/** This isolate ended a session (logout, refresh-token reuse): it is refused here from now on. */
export function evictCachedSession(sessionId: string): void {
  sessionsById.evict(sessionId);
  sessionsByCookieHash.evictWhere((live) => live.session.id === sessionId);
}

/** This isolate changed an account (disabled, role changed, sessions ended): nothing of it is served from cache. */
export function evictCachedUser(userId: string): void {
  sessionsById.evictWhere((live) => live.user.id === userId);
  sessionsByCookieHash.evictWhere((live) => live.user.id === userId);
  apiKeysByHash.evictWhere((found) => found.key.userId === userId);
}

/** This isolate revoked an API key. */
export function evictCachedApiKey(keyId: string): void {
  apiKeysByHash.evictWhere((found) => found.key.id === keyId);
}

/** Empties every cache (tests use it to simulate a fresh isolate). */
export function clearRevocableStateForTests(): void {
  sessionsById.clear();
  sessionsByCookieHash.clear();
  apiKeysByHash.clear();
}
