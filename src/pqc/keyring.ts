import type { Config } from "../env";
import { THUMBPRINT_KID, type VerificationKey } from "../crypto/jwt";
import { mlDsa65 } from "../crypto/ml-dsa";
import { kvKeys, PUBLIC_KEY_CACHE_TTL_SECONDS } from "../kv-keys";
import { guardKv } from "../storage/guard";
import { akpJwk, publicKeyFromJwk, type AkpJwk } from "./akp";
import { pqcSigner } from "./signer";

/**
 * Public keys for PQC verification, looked up by exact `kid`:
 * 1. this isolate's map (no I/O on the hot path);
 * 2. KV (`pqc:jwk:<kid>`, 24 h), so a new isolate never needs KMS, and a KMS outage after the
 *    key was cached does not stop verification;
 * 3. the signer (KMS GetPublicKey), single-flight per isolate so that a burst of unknown `kid`s
 *    makes one call, and at most once a minute, so junk `kid`s cannot spend our KMS quota.
 */
const verifiers = new Map<string, VerificationKey>();
let inFlight: Promise<void> | undefined;
let lastSignerFetch = 0;
export const SIGNER_REFETCH_INTERVAL_MS = 60_000;

async function remember(jwk: AkpJwk): Promise<VerificationKey> {
  const verify = await (await mlDsa65()).verifier(publicKeyFromJwk(jwk));
  const key: VerificationKey = { kid: jwk.kid, alg: "ML-DSA-65", verify };
  verifiers.set(jwk.kid, key);
  return key;
}

/** Keeps a key in this isolate and in KV. */
async function store(jwk: AkpJwk, cache: KVNamespace): Promise<void> {
  await remember(jwk);
  await guardKv(cache).put(kvKeys.pqcPublicKey(jwk.kid), JSON.stringify(jwk), { expirationTtl: PUBLIC_KEY_CACHE_TTL_SECONDS });
}

/** Fetches the signer's current key into KV and this isolate; one call at a time. */
function refreshFromSigner(config: Config, cache: KVNamespace): Promise<void> {
  inFlight ??= (async () => {
    try {
      lastSignerFetch = Date.now();
      await store(await akpJwk(await pqcSigner(config).publicKey()), cache);
    } finally {
      inFlight = undefined;
    }
  })();
  return inFlight;
}

/** The key with exactly this `kid`; undefined for a `kid` that is no thumbprint, which is never looked up. */
export async function pqcVerificationKey(config: Config, cache: KVNamespace, kid: string): Promise<VerificationKey | undefined> {
  // KV refuses keys over 512 bytes with an exception; only a thumbprint may become a key.
  if (!THUMBPRINT_KID.test(kid)) return undefined;
  const known = verifiers.get(kid);
  if (known) return known;
  const cached = await guardKv(cache).get<AkpJwk>(kvKeys.pqcPublicKey(kid), "json");
  if (cached && cached.kid === kid) return remember(cached);
  // Throttled: no new fetch, but a fetch that finished while KV was read may have stored the key.
  if (Date.now() - lastSignerFetch < SIGNER_REFETCH_INTERVAL_MS && !inFlight) return verifiers.get(kid);
  try {
    await refreshFromSigner(config, cache);
  } catch {
    return undefined; // the signer is down and the key is not cached: nothing can verify this token
  }
  return verifiers.get(kid);
}

/** The JWKs to publish: the signer's current key. */
export async function currentPqcJwk(config: Config, cache: KVNamespace): Promise<AkpJwk> {
  const jwk = await akpJwk(await pqcSigner(config).publicKey());
  if (!verifiers.has(jwk.kid)) await store(jwk, cache);
  return jwk;
}

/** Forgets this isolate's keys and throttle (tests use it to simulate a fresh isolate). */
export function resetPqcKeyringForTests(): void {
  verifiers.clear();
  lastSignerFetch = 0;
  inFlight = undefined;
}
