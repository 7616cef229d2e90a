import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * PQC references: the token a reference stands for, under the SHA-256 of the reference. In D1
 * rather than KV because a reference is used right after it is issued, often from another
 * location, and KV is not read-after-write there; D1 is (every query goes to the primary).
 */
export const pqcReferences = sqliteTable(
  "pqc_references",
  {
    referenceHash: text("reference_hash").primaryKey(),
    token: text("token").notNull(),
    jti: text("jti").notNull(),
    /** The token's `exp`, in milliseconds like every time here. */
    expiresAt: integer("expires_at").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (table) => [index("pqc_references_expires_idx").on(table.expiresAt)],
);

/**
 * Every PQC public key the Worker has signed with, for rotation with overlap. The newest key is
 * current (`retires_at` null); adopting a newer one gives every older current key a retirement time
 * `PQC_KEY_OVERLAP_SECONDS` ahead, so tokens signed before the alias moved verify until they
 * expire, the JWKS publishes both keys meanwhile, and the old `kid` is refused afterwards.
 */
export const pqcKeys = sqliteTable("pqc_keys", {
  kid: text("kid").primaryKey(),
  /** The AKP JWK, as published. */
  jwk: text("jwk").notNull(),
  /** When a Worker first signed with (or was told of) this key; orders the keys. */
  publishedAt: integer("published_at").notNull(),
  retiresAt: integer("retires_at"),
});
