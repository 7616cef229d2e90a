import type { AuthEvent } from "../audit/event";
import { generateApiKey } from "../crypto/api-key";
import { sha256Hex } from "../crypto/digest";
import type { ApiKeyRow } from "../db/schema";
import { isoTime } from "../schemas/common";
import { type NewApiKey, newApiKeyRow } from "./store";

/**
 * A new `hdy_` key, as `POST /api/auth/api-keys` and onboarding's completion both make one: the key
 * (for the response only) and the row to store (its SHA-256 and display prefix, never the key).
 */
export async function mintApiKey(fields: Omit<NewApiKey, "keyHash" | "displayPrefix">): Promise<{ key: string; row: ApiKeyRow }> {
  const { key, displayPrefix } = generateApiKey();
  return { key, row: newApiKeyRow({ ...fields, keyHash: await sha256Hex(key), displayPrefix }) };
}

/** The one response shape of a newly created key (`CreatedApiKey`), the only time the key is shown. */
export function createdApiKeyBody(row: ApiKeyRow, key: string) {
  return {
    id: row.id,
    key,
    prefix: row.displayPrefix,
    name: row.description,
    role: row.role,
    scopes: row.scopes,
    createdAt: new Date(row.createdAt).toISOString(),
    expiresAt: isoTime(row.expiresAt),
    warning: "Store this key now: it cannot be retrieved again. Only its hash is kept.",
  };
}

/** The audit event of a key's creation (it carries a receipt); never the key itself. */
export function apiKeyCreatedEvent(row: ApiKeyRow, details: Record<string, unknown> = {}): AuthEvent {
  return {
    type: "api_key.created",
    subject: row.id,
    actor: row.userId,
    details: { prefix: row.displayPrefix, role: row.role, scopes: row.scopes, expiresAt: row.expiresAt, ...details },
  };
}
