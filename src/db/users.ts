import { and, asc, count, eq, isNull } from "drizzle-orm";
import type { Role } from "../auth/roles";
import { revokeAllApiKeysOfUserStatement } from "./api-keys";
import type { Database } from "./client";
import { afterCursor, type Cursor } from "./cursor";
import { revokeAllSessionsOfUserStatements } from "./sessions";
import { users, type UserRow } from "./schema";

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

/** Inserts a user; returns undefined when the email is already taken (unique constraint). */
export async function insertUser(
  db: Database,
  user: { email: string; passwordHash: string; role: Role; displayName?: string | undefined },
): Promise<UserRow | undefined> {
  const now = Date.now();
  return db
    .insert(users)
    .values({ id: crypto.randomUUID(), ...user, createdAt: now, updatedAt: now })
    .onConflictDoNothing({ target: users.email })
    .returning()
    .get();
}

export async function updatePasswordHash(db: Database, userId: string, passwordHash: string): Promise<void> {
  await db.update(users).set({ passwordHash, updatedAt: Date.now() }).where(eq(users.id, userId));
}

export async function setUserRole(db: Database, userId: string, role: Role): Promise<void> {
  await db.update(users).set({ role, updatedAt: Date.now() }).where(eq(users.id, userId));
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
 * API keys (ASVS 7.4.2). Returns false when the user was already disabled.
 */
export async function disableUser(db: Database, userId: string): Promise<boolean> {
  const now = Date.now();
  const [disabled] = await db.batch([
    db
      .update(users)
      .set({ disabledAt: now, updatedAt: now })
      .where(and(eq(users.id, userId), isNull(users.disabledAt)))
      .returning({ id: users.id }),
    ...revokeAllSessionsOfUserStatements(db, userId, now),
    revokeAllApiKeysOfUserStatement(db, userId, now),
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
    createdAt: new Date(user.createdAt).toISOString(),
  };
}
