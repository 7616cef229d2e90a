import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * PulseMesh: every node token SAGE issued, by `jti`. A connect or refresh needs the token's row
 * (an unknown or revoked jti is refused), and a jti revocation finds its node here.
 */
export const meshNodeTokens = sqliteTable(
  "mesh_node_tokens",
  {
    jti: text("jti").primaryKey(),
    nodeId: text("node_id").notNull(),
    role: text("role").notNull(),
    /** The user (operator, admin, or owner of the bootstrap API key) who asked for it. */
    issuedBy: text("issued_by").notNull(),
    issuedAt: integer("issued_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
    revokedAt: integer("revoked_at"),
  },
  (table) => [index("mesh_node_tokens_node_idx").on(table.nodeId, table.issuedAt)],
);

/** PulseMesh: a node revocation. Every token of the node with `iat` at or before `revoked_before` is dead. */
export const meshNodeRevocations = sqliteTable("mesh_node_revocations", {
  nodeId: text("node_id").primaryKey(),
  /** Unix seconds (the unit of `iat`), inclusive. */
  revokedBefore: integer("revoked_before").notNull(),
  revokedBy: text("revoked_by").notNull(),
  revokedAt: integer("revoked_at").notNull(),
});

/**
 * PulseMesh: one row per open socket, written by the Worker on connect and removed by the topic
 * object when the socket closes. It caps a node's sockets across all topics (a connect inserts
 * its row only while the node holds fewer live rows than `MESH_MAX_SOCKETS_PER_NODE`), and it
 * tells a revocation which topic objects hold the node's sockets. A row outlives a socket the
 * runtime dropped without a close event only until the node hits its cap, when rows that no
 * topic object still holds are swept, or until `expires_at` (the token's expiry; a refresh moves it).
 */
export const meshSockets = sqliteTable(
  "mesh_sockets",
  {
    socketId: text("socket_id").primaryKey(),
    nodeId: text("node_id").notNull(),
    topic: text("topic").notNull(),
    connectedAt: integer("connected_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
  },
  (table) => [index("mesh_sockets_node_idx").on(table.nodeId, table.expiresAt), index("mesh_sockets_expiry_idx").on(table.expiresAt)],
);
