import { and, eq, gt, inArray, isNull, sql } from "drizzle-orm";
import { sha256Hex } from "../crypto/digest";
import { randomHex } from "../crypto/random";
import type { Database } from "../db/client";
import { refreshTokens, sessions, users } from "../db/schema";
import { REFRESH_TOKEN_BYTES, revokeSession } from "./sessions";

export type RotationResult =
  | { outcome: "rotated"; refreshToken: string; sessionId: string; userId: string }
  | { outcome: "reused"; sessionId: string; userId: string }
  | { outcome: "invalid" };

/**
 * Rotates a refresh token. The claim on the old token and the insert of its successor run in
 * one D1 transaction, and the claim is a conditional update (`used_at IS NULL`), so of N
 * concurrent refreshes with one token exactly one rotates it. A token that was already rotated
 * is reuse (RFC 9700 §4.14.2): its whole family, and the session, are revoked.
 */
export async function rotateRefreshToken(db: Database, presented: string): Promise<RotationResult> {
  if (!/^[0-9a-f]+$/.test(presented) || presented.length !== REFRESH_TOKEN_BYTES * 2) return { outcome: "invalid" };
  const now = Date.now();
  const presentedHash = await sha256Hex(presented);
  const successor = { id: crypto.randomUUID(), token: randomHex(REFRESH_TOKEN_BYTES) };
  const successorHash = await sha256Hex(successor.token);

  const liveSessions = db
    .select({ id: sessions.id })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(and(isNull(sessions.revokedAt), gt(sessions.expiresAt, now), isNull(users.disabledAt)));

  const [, inserted] = await db.batch([
    db
      .update(refreshTokens)
      .set({ usedAt: now, replacedBy: successor.id })
      .where(
        and(
          eq(refreshTokens.tokenHash, presentedHash),
          isNull(refreshTokens.usedAt),
          isNull(refreshTokens.revokedAt),
          gt(refreshTokens.expiresAt, now),
          inArray(refreshTokens.familyId, liveSessions),
        ),
      ),
    // Inserts only if the update above claimed the token for this very successor.
    db
      .insert(refreshTokens)
      .select(
        db
          .select({
            id: sql<string>`${successor.id}`.as("id"),
            tokenHash: sql<string>`${successorHash}`.as("token_hash"),
            familyId: refreshTokens.familyId,
            userId: refreshTokens.userId,
            parentId: refreshTokens.id,
            replacedBy: sql<null>`NULL`.as("replaced_by"),
            usedAt: sql<null>`NULL`.as("used_at"),
            revokedAt: sql<null>`NULL`.as("revoked_at"),
            // The family's absolute lifetime carries over: rotation never extends it.
            expiresAt: refreshTokens.expiresAt,
            createdAt: sql<number>`${now}`.as("created_at"),
          })
          .from(refreshTokens)
          .where(and(eq(refreshTokens.tokenHash, presentedHash), eq(refreshTokens.replacedBy, successor.id))),
      )
      .returning({ familyId: refreshTokens.familyId, userId: refreshTokens.userId }),
    // The device list's "last seen": a refresh is the session being used, without a write per request.
    db
      .update(sessions)
      .set({ lastSeenAt: now })
      .where(
        eq(sessions.id, db.select({ id: refreshTokens.familyId }).from(refreshTokens).where(eq(refreshTokens.tokenHash, successorHash))),
      ),
  ]);

  const rotated = inserted[0];
  if (rotated) {
    return { outcome: "rotated", refreshToken: successor.token, sessionId: rotated.familyId, userId: rotated.userId };
  }

  const existing = await db
    .select({ familyId: refreshTokens.familyId, userId: refreshTokens.userId, usedAt: refreshTokens.usedAt })
    .from(refreshTokens)
    .where(eq(refreshTokens.tokenHash, presentedHash))
    .get();
  if (existing?.usedAt != null) {
    await revokeSession(db, existing.familyId);
    return { outcome: "reused", sessionId: existing.familyId, userId: existing.userId };
  }
  return { outcome: "invalid" };
}
