import { and, eq, gt, isNull, sql } from "drizzle-orm";
import { sha256Hex } from "../crypto/digest";
import { randomBase64Url } from "../crypto/random";
import type { Database } from "../db/client";
import { type OAuthRefreshTokenRow, oauthRefreshTokens, users } from "../db/schema";

const REFRESH_TOKEN_BYTES = 32;
const REFRESH_TOKEN = /^[A-Za-z0-9_-]{43}$/;

export interface RefreshGrant {
  clientId: string;
  userId: string;
  scope: string;
  resource: string;
  authTime: number;
  amr: string[];
}

/** Starts a refresh family (one per code exchange); its absolute end is the client's refresh lifetime. */
export async function startRefreshFamily(
  db: Database,
  grant: RefreshGrant,
  ttlSeconds: number,
): Promise<{ token: string; familyId: string }> {
  const token = randomBase64Url(REFRESH_TOKEN_BYTES);
  const id = crypto.randomUUID();
  const now = Date.now();
  await db.insert(oauthRefreshTokens).values({
    id,
    tokenHash: await sha256Hex(token),
    familyId: id,
    ...grant,
    replacedBy: null,
    usedAt: null,
    revokedAt: null,
    expiresAt: now + ttlSeconds * 1000,
    createdAt: now,
  });
  return { token, familyId: id };
}

export type RefreshRotation =
  | { outcome: "rotated"; token: string; row: OAuthRefreshTokenRow }
  | { outcome: "reused"; row: OAuthRefreshTokenRow }
  | { outcome: "invalid" };

/**
 * Rotates an app's refresh token the way the first-party one rotates (src/identity/refresh-tokens.ts):
 * the claim is a conditional update and the successor is inserted in the same batch, so one of N
 * concurrent refreshes wins; a token already rotated is reuse (RFC 9700 §4.14.2) and ends its family.
 * A token of another client is invalid for this one (RFC 6749 §6).
 */
export async function rotateAppRefreshToken(db: Database, clientId: string, presented: string): Promise<RefreshRotation> {
  if (!REFRESH_TOKEN.test(presented)) return { outcome: "invalid" };
  const presentedHash = await sha256Hex(presented);
  const row = await db.select().from(oauthRefreshTokens).where(eq(oauthRefreshTokens.tokenHash, presentedHash)).get();
  const now = Date.now();
  if (!row || row.clientId !== clientId || row.revokedAt !== null || row.expiresAt <= now) return { outcome: "invalid" };
  if (row.usedAt !== null) {
    await revokeRefreshFamily(db, row.familyId);
    return { outcome: "reused", row };
  }
  const user = await db.select({ disabledAt: users.disabledAt }).from(users).where(eq(users.id, row.userId)).get();
  if (!user || user.disabledAt !== null) return { outcome: "invalid" };

  const token = randomBase64Url(REFRESH_TOKEN_BYTES);
  const successor: OAuthRefreshTokenRow = {
    ...row,
    id: crypto.randomUUID(),
    tokenHash: await sha256Hex(token),
    replacedBy: null,
    usedAt: null,
    revokedAt: null,
    createdAt: now,
  };
  const [claimed] = await db.batch([
    db
      .update(oauthRefreshTokens)
      .set({ usedAt: now, replacedBy: successor.id })
      .where(
        and(
          eq(oauthRefreshTokens.id, row.id),
          isNull(oauthRefreshTokens.usedAt),
          isNull(oauthRefreshTokens.revokedAt),
          gt(oauthRefreshTokens.expiresAt, now),
        ),
      )
      .returning({ id: oauthRefreshTokens.id }),
    // Inserted only when the claim above was this request's.
    db.insert(oauthRefreshTokens).select(
      db
        .select({
          id: sql<string>`${successor.id}`.as("id"),
          tokenHash: sql<string>`${successor.tokenHash}`.as("token_hash"),
          familyId: oauthRefreshTokens.familyId,
          clientId: oauthRefreshTokens.clientId,
          userId: oauthRefreshTokens.userId,
          scope: oauthRefreshTokens.scope,
          resource: oauthRefreshTokens.resource,
          authTime: oauthRefreshTokens.authTime,
          amr: oauthRefreshTokens.amr,
          replacedBy: sql<null>`NULL`.as("replaced_by"),
          usedAt: sql<null>`NULL`.as("used_at"),
          revokedAt: sql<null>`NULL`.as("revoked_at"),
          expiresAt: oauthRefreshTokens.expiresAt,
          createdAt: sql<number>`${now}`.as("created_at"),
        })
        .from(oauthRefreshTokens)
        .where(and(eq(oauthRefreshTokens.id, row.id), eq(oauthRefreshTokens.replacedBy, successor.id))),
    ),
  ]);
  if (claimed.length === 0) {
    // Another request rotated it first: this presentation is a reuse.
    await revokeRefreshFamily(db, row.familyId);
    return { outcome: "reused", row };
  }
  return { outcome: "rotated", token, row: successor };
}

export async function revokeRefreshFamily(db: Database, familyId: string): Promise<void> {
  await db
    .update(oauthRefreshTokens)
    .set({ revokedAt: Date.now() })
    .where(and(eq(oauthRefreshTokens.familyId, familyId), isNull(oauthRefreshTokens.revokedAt)));
}

/** The live refresh token a client presents (for revocation and introspection); undefined for anything else. */
export async function findAppRefreshToken(db: Database, presented: string): Promise<OAuthRefreshTokenRow | undefined> {
  if (!REFRESH_TOKEN.test(presented)) return undefined;
  return db
    .select()
    .from(oauthRefreshTokens)
    .where(eq(oauthRefreshTokens.tokenHash, await sha256Hex(presented)))
    .get();
}
