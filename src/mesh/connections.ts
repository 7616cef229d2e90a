import { and, eq, lte } from "drizzle-orm";
import type { Database } from "../db/client";
import { meshConnections } from "../db/schema";

/**
 * Which topic objects a node has sockets in (`mesh_connections`), so that a revocation is pushed
 * to exactly those objects instead of to every topic there is.
 */

/** Upserts the node's row for `topic` (batchable: the connect records it before checking revocation). */
export function recordConnectionQuery(db: Database, nodeId: string, topic: string, connectedAt: number) {
  return db
    .insert(meshConnections)
    .values({ nodeId, topic, connectedAt })
    .onConflictDoUpdate({ target: [meshConnections.nodeId, meshConnections.topic], set: { connectedAt } });
}

/** The topics whose objects hold (or recently held) the node's sockets. */
export async function topicsOfNode(db: Database, nodeId: string): Promise<string[]> {
  const rows = await db.select({ topic: meshConnections.topic }).from(meshConnections).where(eq(meshConnections.nodeId, nodeId));
  return rows.map((row) => row.topic);
}

/**
 * Forgets the node's row for `topic` once its last socket there closed, unless a newer connect
 * (one recorded after `connectedAtOrBefore`) has rewritten it in the meantime.
 */
export async function forgetConnection(db: Database, nodeId: string, topic: string, connectedAtOrBefore: number): Promise<void> {
  await db
    .delete(meshConnections)
    .where(and(eq(meshConnections.nodeId, nodeId), eq(meshConnections.topic, topic), lte(meshConnections.connectedAt, connectedAtOrBefore)));
}
