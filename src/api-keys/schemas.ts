import { z } from "@hono/zod-openapi";
import { ROLES } from "../identity/roles";
import { storableText } from "../schemas/text";

const Role = z.enum(ROLES as [string, ...string[]]);
const Scope = z.string().regex(/^[a-z][a-z0-9_.:-]{0,63}$/, "scopes are lower-case words such as `sync:read`");

export const CreateApiKeyBody = z
  .object({
    description: storableText().trim().min(1).max(200),
    ttlDays: z.number().int().min(1).max(365).optional().openapi({ description: "Days until the key expires; none means no expiry" }),
    role: Role.optional().openapi({ description: "At most the owner's role; defaults to the lower of `user` and the owner's role" }),
    scopes: z.array(Scope).max(32).optional(),
  })
  .openapi("CreateApiKeyBody");

export const CreatedApiKey = z
  .object({
    id: z.string(),
    key: z.string().openapi({ description: "The key itself. Shown only in this response." }),
    prefix: z.string(),
    name: z.string().openapi({ description: "The key's description" }),
    role: Role,
    scopes: z.array(z.string()),
    createdAt: z.string(),
    expiresAt: z.string().nullable(),
    warning: z.string(),
  })
  .openapi("CreatedApiKey");

export const ApiKeySummary = z
  .object({
    id: z.string(),
    prefix: z.string(),
    description: z.string(),
    ownerId: z.string(),
    role: Role,
    scopes: z.array(z.string()),
    createdAt: z.string(),
    expiresAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
    lastUsedAt: z.string().nullable(),
  })
  .openapi("ApiKeySummary");

export const ApiKeyList = z.object({ keys: z.array(ApiKeySummary), nextCursor: z.string().nullable() }).openapi("ApiKeyList");

export const ListApiKeysQuery = z.object({
  all: z.enum(["true", "false"]).optional().openapi({ description: "Admins only: every user's keys" }),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().max(80).optional().openapi({ description: "Opaque cursor from the previous page" }),
});

export const KeyIdParam = z.object({
  id: z
    .string()
    .uuid()
    .openapi({ param: { name: "id", in: "path" } }),
});
