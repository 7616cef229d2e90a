import { z } from "@hono/zod-openapi";
import { storableText } from "../schemas/text";
import { DEFAULT_SEARCH_K, MAX_MEMORY_TEXT_CHARS, MAX_SEARCH_K } from "./limits";
import { PreferencesSchema } from "./preference-schemas";

const MemoryText = storableText()
  .trim()
  .min(1, "the text is empty")
  .max(MAX_MEMORY_TEXT_CHARS, `a memory text has at most ${MAX_MEMORY_TEXT_CHARS} characters`);

export const AddMemoryBody = z.object({ content: MemoryText }).strict().openapi("AddMemoryBody");

export const SearchMemoryBody = z
  .object({
    query: MemoryText,
    k: z
      .number()
      .int()
      .min(1, "k is at least 1")
      .max(MAX_SEARCH_K, `k is at most ${MAX_SEARCH_K}`)
      .default(DEFAULT_SEARCH_K)
      .openapi({ description: `How many nearest items (1 to ${MAX_SEARCH_K}, default ${DEFAULT_SEARCH_K})` }),
  })
  .strict()
  .openapi("SearchMemoryBody");

/** A partial update of the preferences: the fields it names replace the stored ones. */
export const UpdatePreferencesBody = PreferencesSchema.refine(
  (patch) => Object.keys(patch).length > 0,
  "name at least one preference to change",
);

export const MemoryItemSchema = z
  .object({
    id: z.string().uuid(),
    kind: z.enum(["preferences", "text"]),
    content: z.string(),
    preferences: PreferencesSchema.nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("MemoryItem");

export const MemoryList = z
  .object({
    items: z.array(MemoryItemSchema),
    limits: z.object({ textItems: z.number().int(), maxTextItems: z.number().int(), maxChars: z.number().int() }),
  })
  .openapi("MemoryList");

export const MemorySearchResult = z
  .object({
    items: z.array(
      MemoryItemSchema.extend({ distance: z.number().openapi({ description: "Cosine distance to the query: 0 is identical" }) }),
    ),
  })
  .openapi("MemorySearchResult");

export const MemoryIdParam = z.object({
  id: z
    .string()
    .uuid()
    .openapi({ param: { name: "id", in: "path" } }),
});

export const DeletedMemory = z.object({ deleted: z.number().int() }).openapi("DeletedMemory");
