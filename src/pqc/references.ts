import { sha256Hex } from "../crypto/digest";
import { randomBase64Url } from "../crypto/random";
import { kvKeys } from "../kv-keys";
import { guardKv } from "../storage/guard";

/** 32 random bytes, base64url: 43 characters instead of a ~4.9 KB token. */
export const REFERENCE_PATTERN = /^[A-Za-z0-9_-]{43}$/;
/** KV refuses TTLs under 60 s; the token inside is re-verified on every use, so a longer entry is harmless. */
const KV_MIN_TTL_SECONDS = 60;

/** Stores a token under the hash of a new reference; only the holder of the reference can find it. */
export async function createReference(cache: KVNamespace, token: string, expiresAt: number): Promise<string> {
  const reference = randomBase64Url(32);
  const ttl = Math.max(KV_MIN_TTL_SECONDS, expiresAt - Math.floor(Date.now() / 1000));
  await guardKv(cache).put(kvKeys.pqcReference(await sha256Hex(reference)), token, { expirationTtl: ttl });
  return reference;
}

/** The token a reference stands for, if KV still has it. The caller must verify it as a token. */
export async function resolveReference(cache: KVNamespace, reference: string): Promise<string | undefined> {
  if (!REFERENCE_PATTERN.test(reference)) return undefined;
  return (await guardKv(cache).get(kvKeys.pqcReference(await sha256Hex(reference)))) ?? undefined;
}
