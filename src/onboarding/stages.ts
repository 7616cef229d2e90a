import { z } from "@hono/zod-openapi";
import { BuddyConfigSchema, DisplayNameSchema, InterestsSchema, LocaleSchema, PlanIdSchema } from "../memory/preference-schemas";

/** The five onboarding stages, in the order they must be completed. */
export const STAGES = ["identity", "interests", "buddy_config", "plan", "completion"] as const;

export type Stage = (typeof STAGES)[number];
/** The stages that carry data; `completion` only confirms. */
export type DataStage = Exclude<Stage, "completion">;

/** What each stage accepts; the field schemas are the preferences' own (src/memory/preference-schemas.ts). */
export const STAGE_DATA = {
  identity: z.object({ displayName: DisplayNameSchema, locale: LocaleSchema }).strict().openapi("OnboardingIdentity"),
  interests: z.object({ tags: InterestsSchema }).strict().openapi("OnboardingInterests"),
  buddy_config: BuddyConfigSchema,
  plan: z.object({ plan: PlanIdSchema }).strict().openapi("OnboardingPlan"),
  completion: z.object({}).strict().default({}).openapi("OnboardingCompletion"),
} as const satisfies Record<Stage, z.ZodType>;

export type StageData = { [S in Stage]: z.output<(typeof STAGE_DATA)[S]> };

/** The stages that must be done before `stage` may be saved. */
export function stagesBefore(stage: Stage): Stage[] {
  return STAGES.slice(0, STAGES.indexOf(stage));
}

export interface Progress {
  done: Stage[];
  /** The first stage not done; null once every stage is. */
  current: Stage | null;
  /** The stage after `current`; null when `current` is the last or there is none. */
  next: Stage | null;
  completed: boolean;
}

/** Where a person stands, from the set of stages they have saved. */
export function progressOf(saved: ReadonlySet<Stage>): Progress {
  const done = STAGES.filter((stage) => saved.has(stage));
  const current = STAGES.find((stage) => !saved.has(stage)) ?? null;
  const next = current === null ? null : (STAGES[STAGES.indexOf(current) + 1] ?? null);
  return { done, current, next, completed: saved.has("completion") };
}

/**
 * Whether `stage` may be saved now: a stage already done may be saved again, and the current one
 * may be saved; a later one may not (the caller answers 409 naming `current`).
 */
export function isInOrder(stage: Stage, progress: Progress): boolean {
  return progress.done.includes(stage) || stage === progress.current;
}
