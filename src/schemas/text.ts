import { z } from "@hono/zod-openapi";
import { isWellFormedText } from "../account-security/password-policy";

/**
 * Storable text: what every free-text field that reaches a store (D1, user memory's Postgres) or a
 * token must be. Postgres refuses U+0000 in `text` and `jsonb` (a 500 before this check, and a
 * queued write that could never be applied); D1 keeps it, but SQLite's string functions (LIKE,
 * length) stop at it. An unpaired surrogate has no UTF-8 form: D1 and the memory store's driver
 * silently store U+FFFD instead, and Postgres refuses it in `jsonb`. Either is refused as a 400
 * rather than stored as something else.
 */
function storableTextProblem(text: string): string | undefined {
  if (text.includes("\u0000")) return "must not contain the NUL character (U+0000)";
  if (!isWellFormedText(text)) return "must be valid Unicode text (it contains an unpaired surrogate)";
  return undefined;
}

/**
 * A string schema for storable text, normalised to NFC, to chain length checks onto
 * (`storableText().trim().min(1).max(80)`). NFC, so that the same text typed with precomposed or
 * combining accents is stored, compared, counted against a limit and embedded as one; not NFKC,
 * which would change what a person wrote (ﬁ to fi, ² to 2, full-width forms to ASCII).
 */
export function storableText() {
  return z
    .string()
    .superRefine((text, context) => {
      const problem = storableTextProblem(text);
      if (problem) context.addIssue({ code: "custom", message: problem, abort: true });
    })
    .normalize("NFC");
}
