import { constantTimeEqual, sha256Hex } from "../crypto/digest";
import { utf8 } from "../crypto/encoding";
import { randomBase64Url } from "../crypto/random";

/** A client secret is 32 random bytes (RFC 6749 §10.10 asks for enough entropy), shown once. */
export const CLIENT_SECRET_BYTES = 32;

export function newClientSecret(): string {
  return randomBase64Url(CLIENT_SECRET_BYTES);
}

/** Which stored hashes a presented secret may match: the current one, and the previous one until its stated end. */
export interface StoredSecrets {
  secretHash: string | null;
  previousSecretHash: string | null;
  previousSecretExpiresAt: number | null;
}

/** True when `presented` is the client's current secret, or its previous one inside the rotation overlap. */
export async function secretMatches(stored: StoredSecrets, presented: string, now = Date.now()): Promise<boolean> {
  const hash = utf8(await sha256Hex(presented));
  const current = stored.secretHash !== null && constantTimeEqual(hash, utf8(stored.secretHash));
  const previous =
    stored.previousSecretHash !== null &&
    stored.previousSecretExpiresAt !== null &&
    stored.previousSecretExpiresAt > now &&
    constantTimeEqual(hash, utf8(stored.previousSecretHash));
  return current || previous;
}
