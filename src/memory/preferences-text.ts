import type { Preferences } from "./preference-schemas";

/** The preferences as one text, which is what their row embeds (so a search for "python" finds the interest). */
export function preferencesText(preferences: Preferences): string {
  const parts: string[] = [];
  if (preferences.displayName) parts.push(`Display name: ${preferences.displayName}.`);
  if (preferences.locale) parts.push(`Locale: ${preferences.locale}.`);
  if (preferences.interests?.length) parts.push(`Interests: ${preferences.interests.join(", ")}.`);
  if (preferences.buddy) {
    const persona = preferences.buddy.persona ? ` ${preferences.buddy.persona}` : "";
    parts.push(`Buddy: ${preferences.buddy.name}, ${preferences.buddy.tone}.${persona}`);
  }
  if (preferences.plan) parts.push(`Plan: ${preferences.plan}.`);
  return parts.join(" ");
}
