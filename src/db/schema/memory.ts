import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { users } from "./identity";

/**
 * Preference updates on their way to user memory (Postgres, src/memory): written here first, so a
 * memory store that is down loses nothing. Applied in id order and then deleted, by the write that
 * recorded them, by the user's next memory request, or by the maintenance cron.
 */
export const pendingMemoryPreferences = sqliteTable(
  "pending_memory_preferences",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /** A partial `Preferences` (src/memory/preference-schemas.ts), as JSON. */
    patch: text("patch", { mode: "json" }).notNull().$type<Record<string, unknown>>(),
    createdAt: integer("created_at").notNull(),
    /** When applying the user's patches last failed (null: not yet); such users go to the back of the cron's queue. */
    lastAttemptAt: integer("last_attempt_at"),
  },
  (table) => [index("pending_memory_preferences_user_idx").on(table.userId, table.id)],
);

export type PendingMemoryPreferencesRow = typeof pendingMemoryPreferences.$inferSelect;
