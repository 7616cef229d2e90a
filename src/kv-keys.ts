/**
 * Every KV key the Worker writes, in one place (README, "Storage schema"). KV is eventually
 * consistent, so it only holds what may be stale for a while without harm: public keys, and
 * PQC references whose token is re-verified on every use.
 */
export const kvKeys = {
  /** An ML-DSA-65 public key as an AKP JWK, by `kid` (RFC 7638 thumbprint). TTL 24 h. */
  pqcPublicKey: (kid: string) => `pqc:jwk:${kid}`,
  /** A PQC token, under the SHA-256 (hex) of its reference. TTL = the token's remaining life. */
  pqcReference: (referenceHash: string) => `pqc:ref:${referenceHash}`,
} as const;

export const PUBLIC_KEY_CACHE_TTL_SECONDS = 24 * 60 * 60;
