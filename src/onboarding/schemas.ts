import { z } from "@hono/zod-openapi";
import { CreatedApiKey } from "../api-keys/schemas";
import { STAGE_DATA, STAGES } from "./stages";

const StageName = z.enum(STAGES);

/** `{stage, data}`: one stage's data, validated by that stage's schema (errors name `data.<field>`). */
export const CompleteStageBody = z
  .discriminatedUnion("stage", [
    z.object({ stage: z.literal("identity"), data: STAGE_DATA.identity }),
    z.object({ stage: z.literal("interests"), data: STAGE_DATA.interests }),
    z.object({ stage: z.literal("buddy_config"), data: STAGE_DATA.buddy_config }),
    z.object({ stage: z.literal("plan"), data: STAGE_DATA.plan }),
    z.object({ stage: z.literal("completion"), data: STAGE_DATA.completion.optional() }),
  ])
  .openapi("OnboardingStage");

export const OnboardingStatus = z
  .object({
    stages: z.array(StageName).openapi({ description: "Every stage, in order" }),
    done: z.array(StageName),
    current: StageName.nullable().openapi({ description: "The first stage not done; null once all are" }),
    next: StageName.nullable().openapi({ description: "The stage after `current`" }),
    completed: z.boolean(),
    data: z
      .object({
        identity: STAGE_DATA.identity.optional(),
        interests: STAGE_DATA.interests.optional(),
        buddy_config: STAGE_DATA.buddy_config.optional(),
        plan: STAGE_DATA.plan.optional(),
      })
      .openapi({ description: "What each saved stage holds, for a wizard's back button" }),
    plans: z.array(z.object({ id: z.string(), name: z.string(), summary: z.string() })),
  })
  .openapi("OnboardingStatus");

export const OnboardingStepResult = OnboardingStatus.extend({
  apiKey: CreatedApiKey.optional().openapi({ description: "Only in the response that completed onboarding: the key, shown once" }),
}).openapi("OnboardingStepResult");
