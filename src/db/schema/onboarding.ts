import { integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { users } from "./identity";

/**
 * Onboarding: one row per stage a person has saved, keyed by (user, stage), so saving a stage again
 * replaces its data. Each write is conditional on the earlier stages' rows (src/onboarding/store.ts),
 * so the order holds even for concurrent requests. The `completion` row carries the id of the API key
 * completion created; it has no foreign key because it is written first, in the same transaction
 * that inserts the key only if this row names it.
 */
export const onboardingStages = sqliteTable(
  "onboarding_stages",
  {
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    stage: text("stage", { enum: ["identity", "interests", "buddy_config", "plan", "completion"] }).notNull(),
    data: text("data", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    apiKeyId: text("api_key_id"),
    savedAt: integer("saved_at").notNull(),
  },
  (table) => [primaryKey({ columns: [table.userId, table.stage] })],
);

export type OnboardingStageRow = typeof onboardingStages.$inferSelect;
