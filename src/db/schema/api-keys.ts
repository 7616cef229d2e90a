import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { users } from "./identity";

/** `hdy_` API keys. Only the SHA-256 of the whole key is kept, never the key. */
export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    keyHash: text("key_hash").notNull().unique(),
    /** `hdy_` plus 8 characters, safe to show in lists and logs. */
    displayPrefix: text("display_prefix").notNull(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    description: text("description").notNull(),
    role: text("role", { enum: ["admin", "operator", "user", "guest"] }).notNull(),
    scopes: text("scopes", { mode: "json" }).$type<string[]>().notNull().default(sql`'[]'`),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at"),
    revokedAt: integer("revoked_at"),
    /** Refreshed at most once a minute per key, not on every request. */
    lastUsedAt: integer("last_used_at"),
    /** Uses counted per isolate and added when `last_used_at` is refreshed. */
    useCount: integer("use_count").notNull().default(0),
  },
  (table) => [index("api_keys_user_idx").on(table.userId, table.createdAt)],
);

export type ApiKeyRow = typeof apiKeys.$inferSelect;
