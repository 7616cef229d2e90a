import { and, eq, type SQL, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { type ApiKeyRow, apiKeys, type OnboardingStageRow, onboardingStages, users } from "../db/schema";
import { type Stage, stagesBefore } from "./stages";

/** Every stage the user has saved, with its data. */
export function savedStages(db: Database, userId: string): Promise<OnboardingStageRow[]> {
  return db.select().from(onboardingStages).where(eq(onboardingStages.userId, userId)).all();
}

/** True while every stage before `stage` has a row: the condition each write carries, so the order holds under concurrency. */
function earlierStagesSaved(userId: string, stage: Stage): SQL {
  const before = stagesBefore(stage);
  if (before.length === 0) return sql`1`;
  const names = sql.join(
    before.map((name) => sql`${name}`),
    sql`, `,
  );
  return sql`(SELECT count(*) FROM onboarding_stages WHERE user_id = ${userId} AND stage IN (${names})) = ${before.length}`;
}

/**
 * Saves (or saves again) a data stage, in one conditional statement: only while the earlier stages
 * are saved. False when they are not, so the caller answers with the stage expected.
 */
export async function saveStage(db: Database, userId: string, stage: Exclude<Stage, "completion">, data: unknown): Promise<boolean> {
  const saved = await db.all<{ stage: string }>(sql`
    INSERT INTO onboarding_stages (user_id, stage, data, api_key_id, saved_at)
    SELECT ${userId}, ${stage}, ${JSON.stringify(data)}, NULL, ${Date.now()} WHERE ${earlierStagesSaved(userId, stage)}
    ON CONFLICT (user_id, stage) DO UPDATE SET data = excluded.data, saved_at = excluded.saved_at
    RETURNING stage`);
  return saved.length === 1;
}

export type CompletionOutcome = "completed" | "already_completed" | "out_of_order";

/**
 * Completes onboarding and stores its API key, exactly once: one D1 transaction claims the
 * `completion` row for this key's id (only if the account exists, the earlier stages are saved and
 * no completion row exists), then inserts the key only if the row names that id. Of two concurrent completions one
 * claims the row and the other inserts nothing.
 */
export async function completeWithKey(db: Database, key: ApiKeyRow): Promise<CompletionOutcome> {
  const literal = <T>(value: T, column: string) => sql<T>`${value}`.as(column);
  const [, inserted] = await db.batch([
    db
      .insert(onboardingStages)
      .select(
        db
          .select({
            userId: users.id,
            stage: literal("completion", "stage"),
            data: literal("{}", "data"),
            apiKeyId: literal(key.id, "api_key_id"),
            savedAt: literal(key.createdAt, "saved_at"),
          })
          .from(users)
          .where(and(eq(users.id, key.userId), earlierStagesSaved(key.userId, "completion"))),
      )
      .onConflictDoNothing(),
    // Inserts only if the statement above claimed the completion for this very key.
    db
      .insert(apiKeys)
      .select(
        db
          .select({
            id: literal(key.id, "id"),
            keyHash: literal(key.keyHash, "key_hash"),
            displayPrefix: literal(key.displayPrefix, "display_prefix"),
            userId: onboardingStages.userId,
            description: literal(key.description, "description"),
            role: literal(key.role, "role"),
            scopes: literal(JSON.stringify(key.scopes), "scopes"),
            createdAt: literal(key.createdAt, "created_at"),
            expiresAt: literal(key.expiresAt, "expires_at"),
            revokedAt: literal(null, "revoked_at"),
            lastUsedAt: literal(null, "last_used_at"),
            useCount: literal(0, "use_count"),
          })
          .from(onboardingStages)
          .where(
            and(eq(onboardingStages.userId, key.userId), eq(onboardingStages.stage, "completion"), eq(onboardingStages.apiKeyId, key.id)),
          ),
      )
      .returning({ id: apiKeys.id }),
  ]);
  if (inserted.length === 1) return "completed";
  const rows = await savedStages(db, key.userId);
  return rows.some((row) => row.stage === "completion") ? "already_completed" : "out_of_order";
}
