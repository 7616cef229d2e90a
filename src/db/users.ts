import { and, count, eq, isNull } from "drizzle-orm";
import type { Role } from "../auth/roles";
import type { Database } from "./client";
import { users, type UserRow } from "./schema";

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
