import type { Preferences } from "../memory/preference-schemas";
import type { Stage, StageData } from "./stages";

/**
 * The preferences a saved stage sets, in the shape of user memory's `Preferences`, so onboarding can
 * write its stages there: identity gives the display name and locale, interests the interests,
 * buddy config the buddy and plan the plan. Completion sets none (null).
 */
export function preferencesFromStage<S extends Stage>(stage: S, data: StageData[S]): Preferences | null {
  switch (stage) {
    case "identity": {
      const { displayName, locale } = data as StageData["identity"];
      return { displayName, locale };
    }
    case "interests":
      return { interests: (data as StageData["interests"]).tags };
    case "buddy_config":
      return { buddy: data as StageData["buddy_config"] };
    case "plan":
      return { plan: (data as StageData["plan"]).plan };
    default:
      return null;
  }
}
