/** At most 300 s: PQC tokens are for single high-security operations. */
export const PQC_TOKEN_MAX_TTL_SECONDS = 300;

/**
 * How long a rotated-out PQC key still verifies after the Worker first sees the new one (docs/operations.md,
 * "Key rotation runbook"). At least the token lifetime plus PQC_KEY_OVERLAP_MARGIN_SECONDS, so that every
 * token signed before the alias moved verifies until it expires.
 */
export const PQC_KEY_OVERLAP_DEFAULT_SECONDS = 900;
export const PQC_KEY_OVERLAP_MARGIN_SECONDS = 30;
