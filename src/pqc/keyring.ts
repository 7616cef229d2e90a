import type { Config } from "../env";
import { THUMBPRINT_KID, type VerificationKey } from "../crypto/jwt";
import { mlDsa65 } from "../crypto/ml-dsa";
import { UnavailableError } from "../errors";
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
 *    makes one call, and at most once a minute, so junk `kid`s cannot spend our KMS quota;
 * 4. when the signer cannot answer, KV's record of the signer's current key (`pqc:jwk:current`,
 *    no expiry), so an outage that outlasts the 24 h entry still verifies the current key.
 *
 * KV and the signer stand in for each other: with KV down the signer supplies the key, and with
 * KMS down KV does. Only when neither can answer is the check a 503, since neither can tell.
 */
const verifiers = new Map<string, VerificationKey>();
/** The signer's current key as this isolate last learned it (from the signer or KV's record). */
let currentJwk: AkpJwk | undefined;
/** The `kid` this isolate last wrote to KV, so that KV is written once per key, not per request. */
let storedKid: string | undefined;
let inFlight: Promise<void> | undefined;
let lastSignerFetch = 0;
export const SIGNER_REFETCH_INTERVAL_MS = 60_000;

async function remember(jwk: AkpJwk): Promise<VerificationKey> {
  const known = verifiers.get(jwk.kid);
  if (known) return known;
  const verify = await (await mlDsa65()).verifier(publicKeyFromJwk(jwk));
  const key: VerificationKey = { kid: jwk.kid, alg: "ML-DSA-65", verify };
  verifiers.set(jwk.kid, key);
  return key;
}

/** Runs a KV call; an outage gives `undefined` (and is logged) instead of failing the caller. */
async function unlessKvIsDown<T>(call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (error) {
    if (!(error instanceof UnavailableError)) throw error;
    console.warn(JSON.stringify({ msg: "PQC keyring: KV unavailable", error: error.message }));
    return undefined;
  }
}

/** Adopts the signer's current key: in this isolate, and in KV by `kid` and as the current key (best effort). */
async function adoptCurrent(jwk: AkpJwk, cache: KVNamespace): Promise<void> {
  await remember(jwk);
  currentJwk = jwk;
  if (storedKid === jwk.kid) return;
  storedKid = jwk.kid;
  const kv = guardKv(cache);
  const value = JSON.stringify(jwk);
  await unlessKvIsDown(() =>
    Promise.all([kv.put(kvKeys.pqcPublicKey(jwk.kid), value, { expirationTtl: PUBLIC_KEY_CACHE_TTL_SECONDS }), kv.put(kvKeys.pqcCurrentPublicKey, value)]),
  );
}

/** KV's record of the signer's current key, for when the signer cannot answer. */
async function recordedCurrent(cache: KVNamespace): Promise<AkpJwk | undefined> {
  if (currentJwk) return currentJwk;
  const recorded = await guardKv(cache).get<AkpJwk>(kvKeys.pqcCurrentPublicKey, "json");
  if (!recorded || !THUMBPRINT_KID.test(recorded.kid)) return undefined;
  await remember(recorded);
  currentJwk ??= recorded;
  return recorded;
}

/** Fetches the signer's current key into KV and this isolate; one call at a time. */
function refreshFromSigner(config: Config, cache: KVNamespace): Promise<void> {
  inFlight ??= (async () => {
    try {
      lastSignerFetch = Date.now();
      await adoptCurrent(await akpJwk(await pqcSigner(config).publicKey()), cache);
    } finally {
      inFlight = undefined;
    }
  })();
  return inFlight;
}

/**
 * The key with exactly this `kid`; undefined for a `kid` no reachable source knows (and for one
 * that is no thumbprint, which is never looked up). An `UnavailableError` when neither KV nor the
 * signer can answer.
 */
export async function pqcVerificationKey(config: Config, cache: KVNamespace, kid: string): Promise<VerificationKey | undefined> {
  // KV refuses keys over 512 bytes with an exception; only a thumbprint may become a key.
  if (!THUMBPRINT_KID.test(kid)) return undefined;
  const known = verifiers.get(kid);
  if (known) return known;
  let kvOutage: UnavailableError | undefined;
  try {
    const cached = await guardKv(cache).get<AkpJwk>(kvKeys.pqcPublicKey(kid), "json");
    if (cached && cached.kid === kid) return remember(cached);
  } catch (error) {
    if (!(error instanceof UnavailableError)) throw error;
    kvOutage = error; // the signer may still supply the key
  }
  // Throttled: no new fetch, but a fetch that finished while KV was read may have stored the key.
  if (Date.now() - lastSignerFetch < SIGNER_REFETCH_INTERVAL_MS && !inFlight) {
    const found = verifiers.get(kid);
    if (!found && kvOutage) throw kvOutage;
    return found;
  }
  try {
    await refreshFromSigner(config, cache);
  } catch {
    if (kvOutage) throw kvOutage; // neither source can answer: the token may well be valid
    await recordedCurrent(cache); // the signer's current key as KV last recorded it, if any
  }
  return verifiers.get(kid);
}

/** The JWK to publish: the signer's current key, or while the signer cannot answer, the last one known. */
export async function currentPqcJwk(config: Config, cache: KVNamespace): Promise<AkpJwk> {
  let jwk: AkpJwk;
  try {
    jwk = await akpJwk(await pqcSigner(config).publicKey());
  } catch (error) {
    if (!(error instanceof UnavailableError)) throw error;
    const recorded = await unlessKvIsDown(() => recordedCurrent(cache));
    if (recorded) return recorded;
    throw error;
  }
  await adoptCurrent(jwk, cache);
  return jwk;
}

/**
 * Records the key the signer just signed with as the current one (this isolate, KV by `kid` and
 * KV's current-key record), so that the JWKS and verification survive a KMS outage even in
 * isolates that never fetched the key. No KMS call: the signer already holds its public key.
 * Never fails: it runs after the token was issued (in `waitUntil`), and KV outages are logged.
 */
export async function recordPqcSigningKey(config: Config, cache: KVNamespace): Promise<void> {
  try {
    await adoptCurrent(await akpJwk(await pqcSigner(config).publicKey()), cache);
  } catch (error) {
    console.warn(JSON.stringify({ msg: "PQC keyring: the signing key could not be recorded", error: String(error) }));
  }
}

/** Forgets this isolate's keys and throttle (tests use it to simulate a fresh isolate). */
export function resetPqcKeyringForTests(): void {
  verifiers.clear();
  currentJwk = undefined;
  storedKid = undefined;
  lastSignerFetch = 0;
  inFlight = undefined;
}
