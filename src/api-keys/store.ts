import { and, desc, eq, isNull, type SQL, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { afterCursor, type Cursor } from "../db/cursor";
import { preparedPerDatabase } from "../db/prepared";
import { type ApiKeyRow, apiKeys, users } from "../db/schema";
import type { Role } from "../identity/roles";

export interface NewApiKey {
  keyHash: string;
  displayPrefix: string;
  userId: string;
  description: string;
  role: Role;
  scopes: string[];
  expiresAt: number | null;
}

/** The row a new key is stored as: a fresh id, created now, never used. */
export function newApiKeyRow(key: NewApiKey): ApiKeyRow {
  return { id: crypto.randomUUID(), ...key, createdAt: Date.now(), revokedAt: null, lastUsedAt: null, useCount: 0 };
}

export async function insertApiKey(db: Database, row: ApiKeyRow): Promise<void> {
  await db.insert(apiKeys).values(row);
}

const keyByHashQuery = preparedPerDatabase((db) =>
  db
    .select({ key: apiKeys, ownerDisabledAt: users.disabledAt, ownerEmail: users.email, ownerRole: users.role })
    .from(apiKeys)
    .innerJoin(users, eq(users.id, apiKeys.userId))
    .where(eq(apiKeys.keyHash, sql.placeholder("keyHash")))
    .prepare(),
);

/** The key with this hash and its owner's state, or undefined. Revocation and expiry are the caller's to judge. */
export function findApiKeyByHash(
  db: Database,
  keyHash: string,
): Promise<{ key: ApiKeyRow; ownerDisabledAt: number | null; ownerEmail: string; ownerRole: Role } | undefined> {
  return keyByHashQuery(db).get({ keyHash });
}

/** Keys newest first, after `cursor`; at most `limit` rows. */
export function listApiKeys(
  db: Database,
  filter: { userId?: string | undefined; cursor?: Cursor | undefined; limit: number },
): Promise<ApiKeyRow[]> {
  return db
    .select()
    .from(apiKeys)
    .where(and(filter.userId ? eq(apiKeys.userId, filter.userId) : undefined, afterCursor(apiKeys, filter.cursor, "desc")))
    .orderBy(desc(apiKeys.createdAt), desc(apiKeys.id))
    .limit(filter.limit)
    .all();
}

export function findApiKeyById(db: Database, id: string): Promise<ApiKeyRow | undefined> {
  return db.select().from(apiKeys).where(eq(apiKeys.id, id)).get();
}

/** Revokes a key; true when this call revoked it (false when it was already revoked). */
export async function revokeApiKey(db: Database, id: string): Promise<boolean> {
  const revoked = await db
    .update(apiKeys)
    .set({ revokedAt: Date.now() })
    .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
    .returning({ id: apiKeys.id });
  return revoked.length === 1;
}

/** Records use: sets `last_used_at` and adds the uses counted since the last write. */
export async function recordApiKeyUse(db: Database, id: string, at: number, uses: number): Promise<void> {
  await db
    .update(apiKeys)
    .set({ lastUsedAt: at, useCount: sql`${apiKeys.useCount} + ${uses}` })
    .where(eq(apiKeys.id, id));
}

/** The statement that revokes every live key of a user, for use inside a batch (`onlyIf` as for sessions). */
export function revokeAllApiKeysOfUserStatement(db: Database, userId: string, at: number, onlyIf?: SQL) {
  return db
    .update(apiKeys)
    .set({ revokedAt: at })
    .where(and(eq(apiKeys.userId, userId), isNull(apiKeys.revokedAt), onlyIf));
}
