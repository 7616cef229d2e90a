import { eq, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { meshNodeRevocations, meshNodeTokens } from "../db/schema";
import type { NodeClaims } from "./node-token";

/**
 * Node tokens and their revocations in D1. D1 is the source of truth for revocation: KV is
 * eventually consistent, which would let a revoked token connect for up to a minute.
 */

/** Records an issued token; connects and refreshes refuse a jti that has no row. */
export async function registerNodeToken(db: Database, claims: NodeClaims, issuedBy: string): Promise<void> {
  await db.insert(meshNodeTokens).values({
    jti: claims.jti,
    nodeId: claims.node_id,
    role: claims.role,
    issuedBy,
    issuedAt: claims.iat * 1000,
    expiresAt: claims.exp * 1000,
  });
}

/** The `revoked_before` second of the node's revocation, if it has one. */
export async function nodeRevokedBefore(db: Database, nodeId: string): Promise<number | undefined> {
  const row = await db
    .select({ revokedBefore: meshNodeRevocations.revokedBefore })
    .from(meshNodeRevocations)
    .where(eq(meshNodeRevocations.nodeId, nodeId))
    .get();
  return row?.revokedBefore;
}

export type TokenStanding = "valid" | "revoked" | "unknown";

/** One query for everything that decides a token's standing (batchable with other statements). */
export function tokenStandingQuery(db: Database, jti: string) {
  return db
    .select({ nodeId: meshNodeTokens.nodeId, revokedAt: meshNodeTokens.revokedAt, revokedBefore: meshNodeRevocations.revokedBefore })
    .from(meshNodeTokens)
    .leftJoin(meshNodeRevocations, eq(meshNodeRevocations.nodeId, meshNodeTokens.nodeId))
    .where(eq(meshNodeTokens.jti, jti))
    .limit(1);
}

type StandingRow = Awaited<ReturnType<typeof tokenStandingQuery>>[number];

/** Whether a verified token still stands, given its row (or none). */
export function standingOf(row: StandingRow | undefined, claims: Pick<NodeClaims, "node_id" | "iat">): TokenStanding {
  if (!row || row.nodeId !== claims.node_id) return "unknown";
  if (row.revokedAt !== null) return "revoked";
  if (row.revokedBefore !== null && claims.iat <= row.revokedBefore) return "revoked";
  return "valid";
}

/** Whether a verified token still stands, in one D1 query (refresh uses it; connects batch the query). */
export async function tokenStanding(db: Database, claims: Pick<NodeClaims, "node_id" | "iat" | "jti">): Promise<TokenStanding> {
  const [row] = await tokenStandingQuery(db, claims.jti);
  return standingOf(row, claims);
}

/** Revokes every token of the node issued up to now; idempotent, and never moves the line back. */
export async function revokeNode(db: Database, nodeId: string, revokedBy: string): Promise<{ revokedBefore: number }> {
  const now = Date.now();
  const revokedBefore = Math.floor(now / 1000);
  const [row] = await db
    .insert(meshNodeRevocations)
    .values({ nodeId, revokedBefore, revokedBy, revokedAt: now })
    .onConflictDoUpdate({
      target: meshNodeRevocations.nodeId,
      set: {
        revokedBefore: sql`max(${meshNodeRevocations.revokedBefore}, excluded.revoked_before)`,
        revokedBy,
        revokedAt: now,
      },
    })
    .returning({ revokedBefore: meshNodeRevocations.revokedBefore });
  return { revokedBefore: row?.revokedBefore ?? revokedBefore };
}

/** Revokes one token; idempotent. Undefined when SAGE never issued that jti. */
export async function revokeToken(db: Database, jti: string): Promise<{ nodeId: string; expiresAt: number } | undefined> {
  const [row] = await db
    .update(meshNodeTokens)
    .set({ revokedAt: sql`coalesce(${meshNodeTokens.revokedAt}, ${Date.now()})` })
    .where(eq(meshNodeTokens.jti, jti))
    .returning({ nodeId: meshNodeTokens.nodeId, expiresAt: meshNodeTokens.expiresAt });
  return row;
}
