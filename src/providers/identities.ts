import { and, asc, eq, exists, isNull, ne, or, type SQL, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { apiKeys, passkeys, recoveryCodes, totpCredentials, type UserIdentityRow, type UserRow, userIdentities, users } from "../db/schema";
import { NO_PASSWORD } from "../identity/users";

/** The identity (provider, subject) and the user it belongs to. */
export function findIdentity(
  db: Database,
  provider: string,
  subject: string,
): Promise<{ identity: UserIdentityRow; user: UserRow } | undefined> {
  return db
    .select({ identity: userIdentities, user: users })
    .from(userIdentities)
    .innerJoin(users, eq(users.id, userIdentities.userId))
    .where(and(eq(userIdentities.provider, provider), eq(userIdentities.subject, subject)))
    .get();
}

/** Links an identity to a user; undefined when (provider, subject) is already linked (to anyone). */
export function insertIdentity(
  db: Database,
  identity: { userId: string; provider: string; subject: string; email?: string | undefined; emailVerified: boolean },
): Promise<UserIdentityRow | undefined> {
  const now = Date.now();
  return db
    .insert(userIdentities)
    .values({ id: crypto.randomUUID(), ...identity, email: identity.email ?? null, createdAt: now, lastSignInAt: now })
    .onConflictDoNothing({ target: [userIdentities.provider, userIdentities.subject] })
    .returning()
    .get();
}

/** Records a sign-in through an identity, with the email the provider reported this time. */
export async function touchIdentity(db: Database, id: string, email: string | undefined, emailVerified: boolean): Promise<void> {
  await db
    .update(userIdentities)
    .set({ lastSignInAt: Date.now(), email: email ?? null, emailVerified })
    .where(eq(userIdentities.id, id));
}

export function listIdentities(db: Database, userId: string): Promise<UserIdentityRow[]> {
  return db.select().from(userIdentities).where(eq(userIdentities.userId, userId)).orderBy(asc(userIdentities.createdAt)).all();
}

/**
 * Unlinks one of a user's identities unless it is their last way to sign in (no password and no
 * other identity). One conditional DELETE, so two concurrent unlinks cannot remove both last ways.
 */
export async function unlinkIdentity(
  db: Database,
  userId: string,
  identityId: string,
): Promise<"unlinked" | "not_found" | "last_sign_in_method"> {
  const otherWayIn = or(
    sql`EXISTS (SELECT 1 FROM ${users} WHERE ${users.id} = ${userId} AND ${users.passwordHash} != ${NO_PASSWORD})`,
    sql`EXISTS (SELECT 1 FROM ${userIdentities} AS other WHERE other.user_id = ${userId} AND other.id != ${identityId})`,
  );
  const deleted = await db
    .delete(userIdentities)
    .where(and(eq(userIdentities.id, identityId), eq(userIdentities.userId, userId), otherWayIn))
    .returning({ id: userIdentities.id });
  if (deleted.length === 1) return "unlinked";
  const exists = await db
    .select({ id: userIdentities.id })
    .from(userIdentities)
    .where(and(eq(userIdentities.id, identityId), eq(userIdentities.userId, userId)))
    .get();
  return exists ? "last_sign_in_method" : "not_found";
}

/**
 * The identities of an account whose address nobody has confirmed yet (by a mailed link), that
 * their provider did not vouch for at that address (`email_verified` false, no email, or another
 * one). Whoever attached them had not proven they read the address's mail: a pre-hijacker's
 * identity from a non-verifying provider, or one they linked while holding the account.
 */
function unvouchedWhileUnconfirmed(db: Database, userId: string, email: string) {
  const unconfirmed = exists(
    db
      .select({ id: users.id })
      .from(users)
      .where(and(eq(users.id, userId), eq(users.email, email), isNull(users.emailVerifiedAt))),
  );
  const unvouched = or(eq(userIdentities.emailVerified, false), isNull(userIdentities.email), ne(userIdentities.email, email));
  return and(eq(userIdentities.userId, userId), unvouched, unconfirmed);
}

/** Holds while the account has such identities (a condition for the batch that confirms the address). */
export function hasUnvouchedIdentities(db: Database, userId: string, email: string) {
  return exists(
    db
      .select({ id: userIdentities.id })
      .from(userIdentities)
      .where(unvouchedWhileUnconfirmed(db, userId, email)),
  );
}

/** Unlinks those identities; a statement for the batch that confirms the address. */
export function unlinkUnvouchedIdentitiesStatement(db: Database, userId: string, email: string) {
  return db
    .delete(userIdentities)
    .where(unvouchedWhileUnconfirmed(db, userId, email))
    .returning({ id: userIdentities.id, provider: userIdentities.provider });
}

/**
 * The statements that end every way in planted on an account that a pre-hijacker may have held
 * (passkeys, TOTP and its recovery codes, API keys), only if `onlyIf` holds: for the batch that
 * confirms an address over unvouched identities.
 */
export function endPlantedWaysInStatements(db: Database, userId: string, onlyIf: SQL, at: number) {
  return [
    db
      .delete(passkeys)
      .where(and(eq(passkeys.userId, userId), onlyIf))
      .returning({ id: passkeys.id }),
    db
      .delete(totpCredentials)
      .where(and(eq(totpCredentials.userId, userId), onlyIf))
      .returning({ userId: totpCredentials.userId }),
    db.delete(recoveryCodes).where(and(eq(recoveryCodes.userId, userId), onlyIf)),
    db
      .update(apiKeys)
      .set({ revokedAt: at })
      .where(and(eq(apiKeys.userId, userId), isNull(apiKeys.revokedAt), onlyIf))
      .returning({ id: apiKeys.id }),
  ] as const;
}
