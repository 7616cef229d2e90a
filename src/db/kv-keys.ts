/**
 * Every KV key the Worker writes, in one place (docs/storage.md). KV is eventually
 * consistent and not read-after-write across locations, so it only holds what may be missing or
 * stale for a while without harm: public keys. (PQC references, read right after they are
 * written, live in D1.)
 */
export const kvKeys = {
  /** An ML-DSA-65 public key as an AKP JWK, by `kid` (RFC 7638 thumbprint). TTL 24 h. */
  pqcPublicKey: (kid: string) => `pqc:jwk:${kid}`,
  /** The PQC signer's current public key as an AKP JWK, no TTL: serves the JWKS and verification while KMS is down. */
  pqcCurrentPublicKey: "pqc:jwk:current",
  /**
   * When a rotated-out PQC key stops verifying (ms since the epoch, as text), no TTL. A key of its
   * own, so that an entry rewritten by an isolate unaware of the rotation never erases it.
   */
  pqcKeyRetirement: (kid: string) => `pqc:retires:${kid}`,
} as const;

export const PUBLIC_KEY_CACHE_TTL_SECONDS = 24 * 60 * 60;
