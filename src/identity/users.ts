import { and, asc, count, eq, exists, isNotNull, isNull, ne, notExists, or, type SQL, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/sqlite-core";
import { revokeAllApiKeysOfUserStatement } from "../api-keys/store";
import type { Database } from "../db/client";
import { afterCursor, type Cursor } from "../db/cursor";
import { type UserRow, users } from "../db/schema";
import type { Role } from "./roles";
import { revokeAllSessionsOfUserStatements } from "./sessions";

/**
 * The password hash of an account that has none (created through a sign-in provider). It is no
 * PHC string, so no password ever verifies against it.
 */
export const NO_PASSWORD = "";

export function hasPassword(user: UserRow): boolean {
  return user.passwordHash !== NO_PASSWORD;
}

export function findUserByEmail(db: Database, email: string): Promise<UserRow | undefined> {
  return db.select().from(users).where(eq(users.email, email)).get();
}

export function findUserById(db: Database, id: string): Promise<UserRow | undefined> {
  return db.select().from(users).where(eq(users.id, id)).get();
}

/** Inserts a user (`emailVerified` when a provider vouched for the address); returns undefined when the email is already taken (unique constraint). */
export async function insertUser(
  db: Database,
  user: { email: string; passwordHash: string; role: Role; displayName?: string | undefined; emailVerified?: boolean },
): Promise<UserRow | undefined> {
  const now = Date.now();
  const { emailVerified, ...fields } = user;
  return db
    .insert(users)
    .values({ id: crypto.randomUUID(), ...fields, emailVerifiedAt: emailVerified ? now : null, createdAt: now, updatedAt: now })
    .onConflictDoNothing({ target: users.email })
    .returning()
    .get();
}

export async function updatePasswordHash(db: Database, userId: string, passwordHash: string): Promise<void> {
  await db.update(users).set({ passwordHash, updatedAt: Date.now() }).where(eq(users.id, userId));
}

/** Whether the owner proved they read mail at the account's address. */
export function isEmailVerified(user: UserRow): boolean {
  return user.emailVerifiedAt !== null;
}

/**
 * Marks the address verified, only while the account still has the address the proof was mailed
 * to (a token sent to an old address proves nothing about a new one); it returns the row when it
 * holds. A statement for a batch: src/account-security/address-confirmation.ts runs it with what a confirmation ends.
 */
export function markEmailVerifiedStatement(db: Database, userId: string, email: string, now: number) {
  return db
    .update(users)
    .set({ emailVerifiedAt: sql`coalesce(${users.emailVerifiedAt}, ${now})`, updatedAt: now })
    .where(and(eq(users.id, userId), eq(users.email, email)))
    .returning({ id: users.id });
}

/**
 * Sets a new password and ends every session and refresh family of the account in one transaction
 * (ASVS 7.4.3), except `keepSessionId` when the owner changed it from that session.
 */
export async function replacePassword(db: Database, userId: string, passwordHash: string, keepSessionId?: string): Promise<void> {
  const now = Date.now();
  await db.batch([
    db.update(users).set({ passwordHash, updatedAt: now }).where(eq(users.id, userId)),
    ...revokeAllSessionsOfUserStatements(db, userId, now, undefined, keepSessionId),
  ]);
}

/**
 * Who decided a change to another account, as read before deciding. The write holds only while
 * they still are exactly that (same role, not disabled), so a decision made by someone demoted or
 * disabled meanwhile is not carried out.
 */
export interface Decider {
  id: string;
  role: Role;
}

/** `users` again, for conditions inside a statement that writes `users`. */
const other = alias(users, "other_user");

/** Holds, at the moment of the write, while the decider is still who they were. */
function deciderStillIs(db: Database, decider: Decider): SQL {
  return exists(
    db
      .select({ id: other.id })
      .from(other)
      .where(and(eq(other.id, decider.id), eq(other.role, decider.role), isNull(other.disabledAt))),
  );
}

function activeAdminsExcept(db: Database, userId?: string) {
  return db
    .select({ id: other.id })
    .from(other)
    .where(and(eq(other.role, "admin"), isNull(other.disabledAt), userId === undefined ? undefined : ne(other.id, userId)));
}

/**
 * Changes a role from `target.role` (as read) to `role`, in one conditional statement: only if the
 * target still has that role, the decider still is who they were, and, when this demotes an admin,
 * another active admin remains. False when any of these no longer holds.
 */
export async function changeUserRole(db: Database, target: { id: string; role: Role }, role: Role, decider: Decider): Promise<boolean> {
  const demotesAdmin = target.role === "admin" && role !== "admin";
  const changed = await db
    .update(users)
    .set({ role, updatedAt: Date.now() })
    .where(
      and(
        eq(users.id, target.id),
        eq(users.role, target.role),
        deciderStillIs(db, decider),
        demotesAdmin ? exists(activeAdminsExcept(db, target.id)) : undefined,
      ),
    )
    .returning({ id: users.id });
  return changed.length === 1;
}

/**
 * The bootstrap promotion, as one transaction whose every statement holds only while there is no
 * active admin: an existing account (as read) has its sessions ended, its password reset and its
 * role raised; otherwise the account is created as admin. Undefined when an admin exists by the time
 * of the write, or when the address was registered between the read and the write.
 */
export async function promoteBootstrapAdmin(
  db: Database,
  existing: UserRow | undefined,
  email: string,
  passwordHash: string,
): Promise<{ userId: string; promoted: boolean } | undefined> {
  const now = Date.now();
  const noActiveAdmin = notExists(activeAdminsExcept(db));
  if (existing) {
    const results = await db.batch([
      // Before the promotion, so that the guard still reads the admin set as it was.
      ...revokeAllSessionsOfUserStatements(db, existing.id, now, noActiveAdmin),
      db
        .update(users)
        .set({ role: "admin", passwordHash, updatedAt: now })
        .where(and(eq(users.id, existing.id), noActiveAdmin))
        .returning({ id: users.id }),
    ]);
    return results[2].length === 1 ? { userId: existing.id, promoted: true } : undefined;
  }
  const created = await db.get<{ id: string }>(sql`
    INSERT INTO ${users} (id, email, password_hash, role, created_at, updated_at)
    SELECT ${crypto.randomUUID()}, ${email}, ${passwordHash}, 'admin', ${now}, ${now} WHERE ${noActiveAdmin}
    ON CONFLICT (email) DO NOTHING
    RETURNING id`);
  return created ? { userId: created.id, promoted: false } : undefined;
}

export async function countActiveAdmins(db: Database): Promise<number> {
  const row = await db
    .select({ n: count() })
    .from(users)
    .where(and(eq(users.role, "admin"), isNull(users.disabledAt)))
    .get();
  return row?.n ?? 0;
}

/** Users oldest first, after `cursor`; at most `limit` rows. */
export function listUsers(db: Database, filter: { cursor?: Cursor | undefined; limit: number }): Promise<UserRow[]> {
  return db
    .select()
    .from(users)
    .where(afterCursor(users, filter.cursor, "asc"))
    .orderBy(asc(users.createdAt), asc(users.id))
    .limit(filter.limit)
    .all();
}

/**
 * Disables a user and, in the same transaction, ends all their sessions, refresh families and
 * API keys (ASVS 7.4.2). The disable holds only while the user is not disabled yet, the decider
 * still is who they were, and, for an admin, another active admin remains; the revocations only
 * once the user is disabled. False when the user was not disabled by this call.
 */
export async function disableUser(db: Database, userId: string, decider: Decider): Promise<boolean> {
  const now = Date.now();
  const isDisabled = exists(
    db
      .select({ id: other.id })
      .from(other)
      .where(and(eq(other.id, userId), isNotNull(other.disabledAt))),
  );
  const [disabled] = await db.batch([
    db
      .update(users)
      .set({ disabledAt: now, updatedAt: now })
      .where(
        and(
          eq(users.id, userId),
          isNull(users.disabledAt),
          deciderStillIs(db, decider),
          or(ne(users.role, "admin"), exists(activeAdminsExcept(db, userId))),
        ),
      )
      .returning({ id: users.id }),
    ...revokeAllSessionsOfUserStatements(db, userId, now, isDisabled),
    revokeAllApiKeysOfUserStatement(db, userId, now, isDisabled),
  ]);
  return disabled.length === 1;
}

/** The profile fields a user may see about themselves. */
export function publicProfile(user: UserRow) {
  return {
    id: user.id,
    email: user.email,
    role: user.role,
    displayName: user.displayName ?? null,
    emailVerified: isEmailVerified(user),
    createdAt: new Date(user.createdAt).toISOString(),
  };
}
