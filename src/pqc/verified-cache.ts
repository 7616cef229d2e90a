import type { PqcPrincipal } from "../credentials/principal";
import { sha256Hex } from "../crypto/digest";

/**
 * PQC credentials this isolate has already verified, so a repeated token skips the ML-DSA-65
 * signature check (about 0.1–0.3 ms natively) and a repeated reference also skips its D1 read;
 * hashing the ~5 KB token costs about a tenth of that. Every PQC verification goes through it
 * (`verifyPqcCredential`): `/api/auth/verify`, `requirePQC` and the gateway alike.
 *
 * Why only PQC: a PQC token is stateless, lives at most 300 s and has no revocation, so "valid
 * until `exp`" is the whole truth about it. API keys, access tokens and session cookies are
 * revoked in D1 (key deletion, logout, refresh-reuse detection, disabling the owner), so their
 * cache (src/credentials/revocable-state.ts) is bounded by the revocation staleness instead. If PQC tokens ever
 * gain a revocation list, this cache must consult it or go.
 *
 * The key covers the client certificate of the connection as well as the credential, because a
 * token bound to a certificate (`cnf`) is valid only over a connection presenting it. What the token
 * may do (its service and operation) is checked by the caller on the cached principal every time.
 */
const MAX_ENTRIES = 1024;
const verified = new Map<string, PqcPrincipal>();

export function pqcCacheKey(presented: string, certificate: string | undefined): Promise<string> {
  return sha256Hex(`${certificate ?? "-"}\n${presented}`);
}

/** The principal verified under this key, while its token is still valid. */
export function cachedPqcPrincipal(key: string, nowSeconds = Math.floor(Date.now() / 1000)): PqcPrincipal | undefined {
  const principal = verified.get(key);
  if (principal === undefined) return undefined;
  if (principal.expiresAt === null || principal.expiresAt <= nowSeconds) {
    verified.delete(key);
    return undefined;
  }
  return principal;
}

/** Remembers a verified principal until its `exp`; the oldest entry makes room when full. */
export function rememberPqcPrincipal(key: string, principal: PqcPrincipal): void {
  if (!verified.has(key) && verified.size >= MAX_ENTRIES) {
    const oldest = verified.keys().next().value;
    if (oldest !== undefined) verified.delete(oldest);
  }
  verified.set(key, principal);
}

/** Forgets everything (tests use it to simulate a fresh isolate). */
export function clearPqcCacheForTests(): void {
  verified.clear();
}
