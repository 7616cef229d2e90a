import { and, eq, gt, inArray, lte, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { meshNodeTokens, meshSockets } from "../db/schema";

/**
 * The open sockets of every node (`mesh_sockets`): a node's sockets are capped across all topics,
 * and a revocation is pushed to exactly the topic objects that hold the node's sockets instead of
 * to every topic there is.
 */

export interface SocketSlot {
  socketId: string;
  nodeId: string;
  /** The token the socket was admitted with; only a registered token claims a slot. */
  jti: string;
  topic: string;
  connectedAt: number;
  /** The token's expiry (ms): a row the runtime never closed stops counting then. */
  expiresAt: number;
}

/**
 * Inserts the socket's row only while the node holds fewer than `cap` live rows (and only for a
 * token SAGE registered); returns the row when it was inserted, nothing when the node is at its
 * cap. One statement, and D1 runs one statement at a time, so concurrent connects can never take
 * the node past the cap. Batchable: the connect claims its slot in the batch that reads revocation.
 */
export function claimSocketQuery(db: Database, slot: SocketSlot, cap: number) {
  const liveSockets = sql`(SELECT count(*) FROM ${meshSockets} WHERE ${meshSockets.nodeId} = ${slot.nodeId} AND ${meshSockets.expiresAt} > ${slot.connectedAt})`;
  return db
    .insert(meshSockets)
    .select(
      db
        .select({
          socketId: sql<string>`${slot.socketId}`.as("socket_id"),
          nodeId: sql<string>`${slot.nodeId}`.as("node_id"),
          topic: sql<string>`${slot.topic}`.as("topic"),
          connectedAt: sql<number>`${slot.connectedAt}`.as("connected_at"),
          expiresAt: sql<number>`${slot.expiresAt}`.as("expires_at"),
        })
        .from(meshNodeTokens)
        .where(and(eq(meshNodeTokens.jti, slot.jti), sql`${liveSockets} < ${cap}`)),
    )
    .returning({ socketId: meshSockets.socketId });
}

/** Frees a socket's slot (when it closes, or when its connect was refused after claiming it). */
export async function releaseSocket(db: Database, socketId: string): Promise<void> {
  await db.delete(meshSockets).where(eq(meshSockets.socketId, socketId));
}

/** Moves a socket's expiry to its refreshed token's. */
export async function extendSocket(db: Database, socketId: string, expiresAt: number): Promise<void> {
  await db.update(meshSockets).set({ expiresAt }).where(eq(meshSockets.socketId, socketId));
}

/** The topics whose objects hold (or recently held) the node's sockets. */
export async function topicsOfNode(db: Database, nodeId: string): Promise<string[]> {
  const rows = await db.selectDistinct({ topic: meshSockets.topic }).from(meshSockets).where(eq(meshSockets.nodeId, nodeId));
  return rows.map((row) => row.topic);
}

/** Which of a node's sockets a topic object still holds open (`MeshTopic.liveSockets`). */
export type LiveSocketsOf = (topic: string, nodeId: string) => Promise<string[]>;

/**
 * Deletes the node's rows, claimed at or before `claimedBefore`, whose topic object no longer
 * holds the socket: sockets the runtime dropped without a close event (a deploy, a crash).
 * Younger rows may belong to a connect still being handed to its object, so they are kept.
 * Returns how many rows it deleted.
 */
export async function sweepStaleSockets(
  db: Database,
  nodeId: string,
  liveSocketsOf: LiveSocketsOf,
  claimedBefore: number,
): Promise<number> {
  const rows = await db
    .select({ socketId: meshSockets.socketId, topic: meshSockets.topic })
    .from(meshSockets)
    .where(and(eq(meshSockets.nodeId, nodeId), lte(meshSockets.connectedAt, claimedBefore), gt(meshSockets.expiresAt, claimedBefore)));
  const stale: string[] = [];
  for (const topic of new Set(rows.map((row) => row.topic))) {
    const live = new Set(await liveSocketsOf(topic, nodeId));
    for (const row of rows) if (row.topic === topic && !live.has(row.socketId)) stale.push(row.socketId);
  }
  if (stale.length > 0) await db.delete(meshSockets).where(inArray(meshSockets.socketId, stale));
  return stale.length;
}
