import { z } from "@hono/zod-openapi";
import { PLAN_IDS } from "../onboarding/plans";
import { storableText } from "../schemas/text";

/**
 * The fields of a person's preferences, shared by the onboarding stages that collect them and by
 * `PUT /api/memory/preferences` that edits them later, so both accept exactly the same values.
 */

export const DisplayNameSchema = storableText()
  .trim()
  .min(1, "a display name is required")
  .max(80, "a display name has at most 80 characters");

/** A BCP 47 language tag, stored in its canonical form (`en-gb` becomes `en-GB`). */
export const LocaleSchema = z
  .string()
  .trim()
  .min(2)
  .max(35)
  .transform((tag, context) => {
    try {
      const [canonical] = Intl.getCanonicalLocales(tag);
      if (canonical) return canonical;
    } catch {
      // RangeError: not a well-formed tag; reported below.
    }
    context.addIssue({ code: "custom", message: `"${tag}" is not a BCP 47 language tag such as en or pt-BR` });
    return z.NEVER;
  });

export const MAX_INTERESTS = 20;

const InterestTagSchema = storableText()
  .trim()
  .toLowerCase()
  .regex(/^[\p{L}\p{N}][\p{L}\p{N} +#.-]{0,31}$/u, "an interest is 1 to 32 letters, digits, spaces or + # . -");

/** Interests as tags: trimmed, lower-cased, without repeats, at most MAX_INTERESTS. */
export const InterestsSchema = z
  .array(InterestTagSchema)
  .min(1, "choose at least one interest")
  .max(MAX_INTERESTS, `choose at most ${MAX_INTERESTS} interests`)
  .transform((tags) => [...new Set(tags)]);

export const BUDDY_TONES = ["friendly", "professional", "playful", "concise"] as const;

/** The HeadyBuddy assistant's configuration. */
export const BuddyConfigSchema = z
  .object({
    name: storableText().trim().min(1, "the buddy needs a name").max(40),
    tone: z.enum(BUDDY_TONES),
    persona: storableText().trim().max(500, "a persona has at most 500 characters").default(""),
  })
  .strict()
  .openapi("BuddyConfig");

export const PlanIdSchema = z.enum(PLAN_IDS);

/** Every preference; each is optional, so a partial update names only what changes. */
export const PreferencesSchema = z
  .object({
    displayName: DisplayNameSchema,
    locale: LocaleSchema,
    interests: InterestsSchema,
    buddy: BuddyConfigSchema,
    plan: PlanIdSchema,
  })
  .partial()
  .strict()
  .openapi("Preferences");

export type Preferences = z.infer<typeof PreferencesSchema>;
