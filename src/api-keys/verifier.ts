import type { Auditor } from "../audit/record";
import type { ApiKeyPrincipal } from "../credentials/principal";
import { noteApiKeyUse } from "../credentials/revocable-state";
import { hasValidApiKeyChecksum } from "../crypto/api-key";
import { constantTimeEqual, sha256Hex } from "../crypto/digest";
import { utf8 } from "../crypto/encoding";
import type { Database } from "../db/client";
import type { Config } from "../env";
import { ApiError } from "../errors";
import { lowerRole } from "../identity/roles";
import { countMetric } from "../metrics/batch";
import { effectiveScopes } from "./scopes";
import { findApiKeyByHash, recordApiKeyUse } from "./store";

/** `last_used_at` is refreshed at most this often per key, so use costs no D1 write per request. */
export const API_KEY_USAGE_FLUSH_MS = 60_000;

/** Uses seen by this isolate since it last wrote them, by key id. */
const pendingUses = new Map<string, number>();

export function invalidApiKey(): ApiError {
  return new ApiError("invalid_token", "The API key is invalid, expired or revoked.", {
    "WWW-Authenticate": 'ApiKey error="invalid_token"',
  });
}

type FoundApiKey = NonNullable<Awaited<ReturnType<typeof findApiKeyByHash>>>;

/** Why a stored key cannot be used now (null: it can), given the SHA-256 that was presented. */
function unusableReason(found: FoundApiKey | undefined, presentedHash: string, now: number) {
  return !found
    ? "unknown"
    : !constantTimeEqual(utf8(found.key.keyHash), utf8(presentedHash))
      ? "unknown"
      : found.key.revokedAt !== null
        ? "revoked"
        : found.key.expiresAt !== null && found.key.expiresAt <= now
          ? "expired"
          : found.ownerDisabledAt !== null
            ? "owner_disabled"
            : null;
}

/**
 * Verifies an `hdy_` key. The checksum is checked first, so noise never reaches storage.
 * Then the key is looked up by its SHA-256 through `findKey`: by default in D1 on every request;
 * the credential readers pass the isolate's bounded cache (src/credentials/revocable-state.ts), which reads D1
 * again once the revocation bound has passed. Role and scopes are re-checked against the owner's
 * current role (as last read) on every use.
 */
export async function verifyApiKey(
  config: Config,
  db: Database,
  presented: string,
  audit: Auditor,
  waitUntil: (work: Promise<unknown>) => void,
  findKey: (keyHash: string, isUsable: (found: FoundApiKey) => boolean) => Promise<FoundApiKey | undefined> = (keyHash) =>
    findApiKeyByHash(db, keyHash),
): Promise<ApiKeyPrincipal> {
  if (!hasValidApiKeyChecksum(presented)) {
    countMetric("heady_api_key_verifications_total", { result: "invalid" });
    throw invalidApiKey();
  }

  const presentedHash = await sha256Hex(presented);
  const found = await findKey(presentedHash, (candidate) => unusableReason(candidate, presentedHash, Date.now()) === null);
  const now = Date.now();
  const reason = unusableReason(found, presentedHash, now);

  if (reason !== null || !found) {
    // Only well-formed keys get here, but anyone can forge the checksum: coalesced per source, never dropped.
    waitUntil(
      audit.recordCoalesced({
        type: "api_key.failed",
        subject: found?.key.id ?? `key:${presented.slice(0, 12)}`,
        details: { reason },
      }),
    );
    countMetric("heady_api_key_verifications_total", { result: "invalid" });
    throw invalidApiKey();
  }

  countMetric("heady_api_key_verifications_total", { result: "valid" });
  const { key } = found;
  const uses = (pendingUses.get(key.id) ?? 0) + 1;
  if (key.lastUsedAt === null || now - key.lastUsedAt >= API_KEY_USAGE_FLUSH_MS) {
    pendingUses.delete(key.id);
    noteApiKeyUse(presentedHash, now);
    waitUntil(
      Promise.all([
        recordApiKeyUse(db, key.id, now, uses),
        audit.record({ type: "api_key.used", subject: key.id, actor: key.userId, details: { uses } }),
      ]),
    );
  } else {
    pendingUses.set(key.id, uses);
  }

  return {
    kind: "api_key",
    userId: key.userId,
    email: found.ownerEmail,
    // A key never acts above its owner, even after the owner was demoted.
    role: lowerRole(key.role, found.ownerRole),
    keyId: key.id,
    scopes: effectiveScopes(config, found.ownerRole, key.scopes),
    expiresAt: key.expiresAt === null ? null : Math.floor(key.expiresAt / 1000),
  };
}
