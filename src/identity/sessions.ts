import { and, desc, eq, gt, isNull, ne, type SQL, sql } from "drizzle-orm";
import { sha256Hex } from "../crypto/digest";
import { randomBase64Url, randomHex } from "../crypto/random";
import type { Database } from "../db/client";
import { preparedPerDatabase } from "../db/prepared";
import { refreshTokens, type SessionRow, sessions, type UserRow, users } from "../db/schema";

/** The session cookie lives 8 hours; the session and its refresh family 30 days (docs/api.md, "Tokens and credentials"). */
export const SESSION_COOKIE_TTL_MS = 8 * 60 * 60 * 1000;
export const SESSION_TTL_MS = 30 * 24 * 60 * 60 * 1000;
/** 34 random bytes, hex-encoded (docs/api.md, "Tokens and credentials"). */
export const REFRESH_TOKEN_BYTES = 34;

export interface NewSession {
  session: SessionRow;
  /** The `__Host-heady_session` cookie value; only its hash is stored. */
  cookieValue: string;
  refreshToken: string;
}

/** Who signs in, from where, and how they proved it (`amr`: src/identity/authentication-methods.ts). */
export interface SignIn {
  userId: string;
  client: { ip?: string | undefined; userAgent?: string | undefined };
  amr: readonly string[];
}

/** A new session row (not yet stored) and the cookie value whose hash it holds. */
async function newSession({ userId, client, amr }: SignIn, now: number): Promise<{ session: SessionRow; cookieValue: string }> {
  const cookieValue = randomBase64Url(32);
  const session: SessionRow = {
    id: crypto.randomUUID(),
    userId,
    cookieHash: await sha256Hex(cookieValue),
    cookieExpiresAt: now + SESSION_COOKIE_TTL_MS,
    expiresAt: now + SESSION_TTL_MS,
    revokedAt: null,
    ip: client.ip ?? null,
    userAgent: client.userAgent?.slice(0, 256) ?? null,
    createdAt: now,
    lastSeenAt: now,
    authenticatedAt: now,
    amr: [...amr],
  };
  return { session, cookieValue };
}

/** The insert of a session's first refresh token; it shares the session's absolute expiry. */
function firstRefreshTokenInsert(db: Database, session: Pick<SessionRow, "id" | "userId" | "expiresAt">, tokenHash: string, now: number) {
  return db.insert(refreshTokens).values({
    id: crypto.randomUUID(),
    tokenHash,
    familyId: session.id,
    userId: session.userId,
    expiresAt: session.expiresAt,
    createdAt: now,
  });
}

/** Starts a session with its first refresh token, both written in one transaction. */
export async function createSession(db: Database, signIn: SignIn): Promise<NewSession> {
  const now = Date.now();
  const { session, cookieValue } = await newSession(signIn, now);
  const refreshToken = randomHex(REFRESH_TOKEN_BYTES);
  await db.batch([db.insert(sessions).values(session), firstRefreshTokenInsert(db, session, await sha256Hex(refreshToken), now)]);
  return { session, cookieValue, refreshToken };
}

/**
 * Starts a session whose first refresh token is issued later, by `issueFirstRefreshToken`: for a
 * sign-in that ends in a redirect, where tokens must not travel in the URL (provider sign-in).
 */
export async function createSessionWithoutRefreshToken(
  db: Database,
  signIn: SignIn,
): Promise<{ session: SessionRow; cookieValue: string }> {
  const created = await newSession(signIn, Date.now());
  await db.insert(sessions).values(created.session);
  return created;
}

/** Issues the first refresh token of a session started by `createSessionWithoutRefreshToken`. */
export async function issueFirstRefreshToken(db: Database, session: SessionRow): Promise<string> {
  const token = randomHex(REFRESH_TOKEN_BYTES);
  await firstRefreshTokenInsert(db, session, await sha256Hex(token), Date.now());
  return token;
}

const liveSessionQuery = preparedPerDatabase((db) =>
  db
    .select({ session: sessions, user: users })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(
      and(
        eq(sessions.id, sql.placeholder("sessionId")),
        isNull(sessions.revokedAt),
        gt(sessions.expiresAt, sql.placeholder("now")),
        isNull(users.disabledAt),
      ),
    )
    .prepare(),
);

/** The live session with this id, with its user; undefined once revoked, expired or disabled. */
export function findLiveSession(db: Database, sessionId: string): Promise<{ session: SessionRow; user: UserRow } | undefined> {
  return liveSessionQuery(db).get({ sessionId, now: Date.now() });
}

/** The live session a cookie (by the SHA-256 of its value) belongs to, while the cookie itself is within its 8 hours. */
export async function findLiveSessionByCookieHash(
  db: Database,
  cookieHash: string,
): Promise<{ session: SessionRow; user: UserRow } | undefined> {
  const now = Date.now();
  return db
    .select({ session: sessions, user: users })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(
      and(
        eq(sessions.cookieHash, cookieHash),
        isNull(sessions.revokedAt),
        gt(sessions.cookieExpiresAt, now),
        gt(sessions.expiresAt, now),
        isNull(users.disabledAt),
      ),
    )
    .get();
}

/** Ends a session and every refresh token of its family, atomically. Idempotent. */
export async function revokeSession(db: Database, sessionId: string): Promise<void> {
  const now = Date.now();
  await db.batch([
    db
      .update(sessions)
      .set({ revokedAt: now })
      .where(and(eq(sessions.id, sessionId), isNull(sessions.revokedAt))),
    db
      .update(refreshTokens)
      .set({ revokedAt: now })
      .where(and(eq(refreshTokens.familyId, sessionId), isNull(refreshTokens.revokedAt))),
  ]);
}

/**
 * The statements that end every session and refresh token of a user, for use inside a batch.
 * `onlyIf` makes them conditional on the same state as the batch's other writes.
 */
export function revokeAllSessionsOfUserStatements(db: Database, userId: string, at: number, onlyIf?: SQL, exceptSessionId?: string) {
  return [
    db
      .update(sessions)
      .set({ revokedAt: at })
      .where(
        and(
          eq(sessions.userId, userId),
          isNull(sessions.revokedAt),
          onlyIf,
          exceptSessionId === undefined ? undefined : ne(sessions.id, exceptSessionId),
        ),
      ),
    db
      .update(refreshTokens)
      .set({ revokedAt: at })
      .where(
        and(
          eq(refreshTokens.userId, userId),
          isNull(refreshTokens.revokedAt),
          onlyIf,
          exceptSessionId === undefined ? undefined : ne(refreshTokens.familyId, exceptSessionId),
        ),
      ),
  ] as const;
}

/** The sessions of a user that are live now (not revoked, not past their end), newest first. */
export function liveSessionsOfUser(db: Database, userId: string): Promise<SessionRow[]> {
  return db
    .select()
    .from(sessions)
    .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt), gt(sessions.expiresAt, Date.now())))
    .orderBy(desc(sessions.createdAt))
    .all();
}

/** Ends one session of this user (and its refresh family); false when the user holds no such live session. */
export async function revokeSessionOfUser(db: Database, userId: string, sessionId: string): Promise<boolean> {
  const owned = await db
    .select({ id: sessions.id })
    .from(sessions)
    .where(and(eq(sessions.id, sessionId), eq(sessions.userId, userId), isNull(sessions.revokedAt), gt(sessions.expiresAt, Date.now())))
    .get();
  if (!owned) return false;
  await revokeSession(db, sessionId);
  return true;
}

/** Ends every session of a user but `keepSessionId`, with their refresh families; the ids it ended. */
export async function revokeOtherSessions(db: Database, userId: string, keepSessionId: string): Promise<string[]> {
  const ended = (await liveSessionsOfUser(db, userId)).filter((session) => session.id !== keepSessionId).map((session) => session.id);
  await db.batch(revokeAllSessionsOfUserStatements(db, userId, Date.now(), undefined, keepSessionId));
  return ended;
}

/** The client addresses an account (by email) signed in from since `since`, newest first, at most `limit`. */
export async function signInAddressesSince(db: Database, email: string, since: number, limit = 20): Promise<string[]> {
  const rows = await db
    .select({ ip: sessions.ip })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(and(eq(users.email, email), gt(sessions.createdAt, since)))
    .orderBy(desc(sessions.createdAt))
    .limit(limit);
  return rows.flatMap((row) => (row.ip === null ? [] : [row.ip]));
}

/** Records that the person just proved who they are again in this live session; false when it has ended. */
export async function markSessionAuthenticated(db: Database, sessionId: string, at: number): Promise<boolean> {
  const updated = await db
    .update(sessions)
    .set({ authenticatedAt: at })
    .where(and(eq(sessions.id, sessionId), isNull(sessions.revokedAt), gt(sessions.expiresAt, at)))
    .returning({ id: sessions.id });
  return updated.length > 0;
}
