import { peekHeader, THUMBPRINT_KID, type VerificationKey } from "../crypto/jwt";
import { mlDsa65 } from "../crypto/ml-dsa";
import { database } from "../db/client";
import { guardKv } from "../db/guard";
import { kvKeys, PUBLIC_KEY_CACHE_TTL_SECONDS } from "../db/kv-keys";
import type { Bindings, Config } from "../env";
import { ApiError, UnavailableError } from "../errors";
import { SingleFlight } from "../platform/single-flight";
import { type AkpJwk, akpJwk, publicKeyFromJwk } from "./akp";
import { adoptSigningKey, keyRetirement, keysToPublish, type RetiringKey, retiredKeysSince } from "./key-store";
import { pqcSigner, SIGNER_FETCH_ABANDONED_MS } from "./signer";

/**
 * Public keys for PQC verification, looked up by exact `kid`:
 * 1. this isolate's map (no I/O on the hot path);
 * 2. KV (`pqc:jwk:<kid>`, 24 h), so a new isolate never needs KMS, and a KMS outage after the
 *    key was cached does not stop verification;
 * 3. the signer (KMS GetPublicKey), single-flight per isolate so that a burst of unknown `kid`s
 *    makes one call, and at most once a minute, so junk `kid`s cannot spend our KMS quota (the
 *    others wait for the call's outcome in their own request, see src/platform/single-flight.ts);
 * 4. when the signer cannot answer, KV's record of the signer's current key (`pqc:jwk:current`,
 *    no expiry), so an outage that outlasts the 24 h entry still verifies the current key.
 *
 * KV and the signer stand in for each other: with KV down the signer supplies the key, and with
 * KMS down KV does. Only when neither can answer is the check a 503, since neither can tell.
 *
 * Rotation: D1 (`pqc_keys`) records every key signed with; when a new one appears, the older keys
 * get a retirement time PQC_KEY_OVERLAP_SECONDS ahead (src/pqc/key-store.ts). That time travels to
 * the edge as a KV marker (`pqc:retires:<kid>`), which each isolate re-reads for the keys it uses
 * every KEY_STATUS_REFRESH_MS, so every isolate knows a retirement long before it takes effect and
 * refuses the old `kid` from that moment on, with no central read on the hot path.
 */
interface KnownKey {
  key: VerificationKey;
  /** When this key stops verifying (ms), or null while it is current. */
  retiresAt: number | null;
  /** When `retiresAt` was last read from KV (or set here). */
  checkedAt: number;
}

export const KEY_STATUS_REFRESH_MS = 15_000;

const verifiers = new Map<string, KnownKey>();
/** The signer's current key as this isolate last learned it (from the signer or KV's record). */
let currentJwk: AkpJwk | undefined;
/** The `kid` this isolate last wrote to KV, so that KV is written once per key, not per request. */
let storedKid: string | undefined;
/** The `kid` this isolate last recorded in D1 as the signer's key, so that D1 is written once per key. */
let publishedKid: string | undefined;
/** The signer fetch (and the KV writes of its key), shared by outcome: a margin over the signer's own bound for the writes. */
let signerFetch = new SingleFlight<void>(SIGNER_FETCH_ABANDONED_MS + 5000);
let lastSignerFetch = 0;
export const SIGNER_REFETCH_INTERVAL_MS = 60_000;

async function remember(jwk: AkpJwk, retiresAt: number | null = null): Promise<VerificationKey> {
  const known = verifiers.get(jwk.kid);
  if (known) return known.key;
  const verify = await (await mlDsa65()).verifier(publicKeyFromJwk(jwk));
  const key: VerificationKey = { kid: jwk.kid, alg: "ML-DSA-65", verify };
  verifiers.set(jwk.kid, { key, retiresAt, checkedAt: Date.now() });
  return key;
}

/** The key while it verifies: current, or retiring and still inside its overlap. */
function whileValid(known: KnownKey | undefined): VerificationKey | undefined {
  if (!known) return undefined;
  return known.retiresAt === null || Date.now() < known.retiresAt ? known.key : undefined;
}

/** KV's retirement marker for a key: when it stops verifying, or null when it has none. */
async function retirementMarker(cache: KVNamespace, kid: string): Promise<number | null> {
  const marker = await guardKv(cache).get(kvKeys.pqcKeyRetirement(kid));
  return marker === null ? null : Number(marker);
}

/** Re-reads a known key's retirement marker when the last read is older than KEY_STATUS_REFRESH_MS. */
async function refreshStatus(known: KnownKey, cache: KVNamespace): Promise<void> {
  if (Date.now() - known.checkedAt < KEY_STATUS_REFRESH_MS) return;
  const marker = await unlessKvIsDown(() => retirementMarker(cache, known.key.kid));
  if (marker === undefined) return; // KV down: keep what this isolate knows, and try again on the next request
  known.checkedAt = Date.now();
  retireAt(known, marker);
}

/** A retirement only ever comes closer: nothing brings a retired key back. */
function retireAt(known: KnownKey, retiresAt: number | null): void {
  if (retiresAt !== null) known.retiresAt = Math.min(retiresAt, known.retiresAt ?? Infinity);
}

/** Runs a storage call; an outage gives `undefined` (and is logged) instead of failing the caller. */
function unlessStoreIsDown(store: "KV" | "D1") {
  return async <T>(call: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof UnavailableError)) throw error;
      console.warn(JSON.stringify({ msg: `PQC keyring: ${store} unavailable`, error: error.message }));
      return undefined;
    }
  };
}
const unlessKvIsDown = unlessStoreIsDown("KV");
const unlessD1IsDown = unlessStoreIsDown("D1");

/** Adopts the signer's current key: in this isolate, and in KV by `kid` and as the current key (best effort). */
async function adoptCurrent(jwk: AkpJwk, cache: KVNamespace): Promise<void> {
  await remember(jwk);
  currentJwk = jwk;
  if (storedKid === jwk.kid) return;
  storedKid = jwk.kid;
  const kv = guardKv(cache);
  const value = JSON.stringify(jwk);
  await unlessKvIsDown(() =>
    Promise.all([
      kv.put(kvKeys.pqcPublicKey(jwk.kid), value, { expirationTtl: PUBLIC_KEY_CACHE_TTL_SECONDS }),
      kv.put(kvKeys.pqcCurrentPublicKey, value),
    ]),
  );
}

type KeyringBindings = Pick<Bindings, "CACHE" | "DB">;

/**
 * Records the signer's current key in D1, once per key and isolate, and spreads the retirement of
 * the keys it replaces: to this isolate at once, and to every other isolate through KV's markers.
 * A D1 failure is retried by the next caller and by the Cron Trigger.
 */
async function publishCurrent(config: Config, env: KeyringBindings, jwk: AkpJwk): Promise<void> {
  if (publishedKid === jwk.kid) return;
  const now = Date.now();
  const retired = await adoptSigningKey(database(env.DB), jwk, now, config.pqc.keyOverlapSeconds * 1000);
  publishedKid = jwk.kid;
  await markRetired(env.CACHE, retired, now);
}

/**
 * Applies retirements to this isolate and writes them to KV (best effort; the Cron Trigger writes
 * them again): the marker, with no expiry, and the key's JWK, kept until a day after its retirement
 * so that isolates which have never seen the key can still verify it during a long overlap.
 */
async function markRetired(cache: KVNamespace, keys: RetiringKey[], now: number): Promise<void> {
  for (const { kid, retiresAt } of keys) {
    const known = verifiers.get(kid);
    if (known) retireAt(known, retiresAt);
  }
  const kv = guardKv(cache);
  await unlessKvIsDown(() =>
    Promise.all(
      keys.flatMap(({ kid, jwk, retiresAt }) => [
        kv.put(kvKeys.pqcKeyRetirement(kid), String(retiresAt)),
        kv.put(kvKeys.pqcPublicKey(kid), JSON.stringify(jwk), {
          expirationTtl: Math.max(60, PUBLIC_KEY_CACHE_TTL_SECONDS + Math.ceil((retiresAt - now) / 1000)),
        }),
      ]),
    ),
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
  return signerFetch.run(async () => {
    try {
      await adoptCurrent(await akpJwk(await pqcSigner(config).publicKey()), cache);
    } finally {
      // Dated when it ends, so that a fetch abandoned with its request (no end) does not stop the next one.
      lastSignerFetch = Date.now();
    }
  });
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
  if (known) {
    await refreshStatus(known, cache);
    return whileValid(known);
  }
  let kvOutage: UnavailableError | undefined;
  try {
    const [cached, retiresAt] = await Promise.all([
      guardKv(cache).get<AkpJwk>(kvKeys.pqcPublicKey(kid), "json"),
      retirementMarker(cache, kid),
    ]);
    if (cached && cached.kid === kid) {
      await remember(cached, retiresAt);
      return whileValid(verifiers.get(kid));
    }
  } catch (error) {
    if (!(error instanceof UnavailableError)) throw error;
    kvOutage = error; // the signer may still supply the key
  }
  // Throttled: no new fetch, but a fetch that finished while KV was read may have stored the key.
  if (Date.now() - lastSignerFetch < SIGNER_REFETCH_INTERVAL_MS && !signerFetch.busy()) {
    const found = verifiers.get(kid);
    if (!found && kvOutage) throw kvOutage;
    return whileValid(found);
  }
  try {
    await refreshFromSigner(config, cache);
  } catch {
    if (kvOutage) throw kvOutage; // neither source can answer: the token may well be valid
    await recordedCurrent(cache); // the signer's current key as KV last recorded it, if any
  }
  return whileValid(verifiers.get(kid));
}

/** The signer's current key, or while the signer cannot answer, the last one known; recorded in D1 when new. */
export async function currentPqcJwk(config: Config, env: KeyringBindings): Promise<AkpJwk> {
  let jwk: AkpJwk;
  try {
    jwk = await akpJwk(await pqcSigner(config).publicKey());
  } catch (error) {
    if (!(error instanceof UnavailableError)) throw error;
    const recorded = await unlessKvIsDown(() => recordedCurrent(env.CACHE));
    if (recorded) return recorded;
    throw error;
  }
  await adoptCurrent(jwk, env.CACHE);
  await unlessD1IsDown(() => publishCurrent(config, env, jwk));
  return jwk;
}

/**
 * The PQC keys to publish in the JWKS: D1's current key first, then every rotated-out key still
 * inside its overlap. The current key is D1's, not simply the signer's, because rotation only moves
 * forward: with the KMS alias moved back to a retired key, the signer's key is listed only while its
 * overlap lasts, never first, and the newer key stays current. The signer's key leads only when D1
 * has no record of it yet (its adoption failed). With D1 down, the signer's key alone, unless this
 * isolate knows it is retired (verification does not depend on this list).
 */
export async function publishedPqcJwks(config: Config, env: KeyringBindings): Promise<AkpJwk[]> {
  const signer = await currentPqcJwk(config, env);
  const now = Date.now();
  const keys = await unlessD1IsDown(() => keysToPublish(database(env.DB), now, signer.kid));
  const known = verifiers.get(signer.kid);
  if (!keys) return known?.retiresAt == null ? [signer] : [];
  const recorded = keys.find((key) => key.kid === signer.kid);
  if (known && recorded?.retiresAt != null) retireAt(known, recorded.retiresAt); // so this isolate stops verifying it in time, too
  const verifying = keys.filter((key) => key.retiresAt === null || now < key.retiresAt).map((key) => key.jwk);
  return recorded ? verifying : [signer, ...verifying];
}

/**
 * Lets a token the PQC signer just made leave only while the key that signed it (the header's
 * `kid`) is not retired. Rotation retires a key for good, but moving the KMS alias back to it (a
 * hurried rollback, against the runbook) makes KMS sign with it again, and every verifier refuses
 * those tokens once its overlap ends. D1 is asked on every issuance, so the refusal starts with the
 * retirement; with D1 down, what this isolate knows (KV's markers) decides. 503 `misconfigured`,
 * not `unavailable`: nothing is down, and no retry helps (so no Retry-After) until an operator
 * rotates to a new key.
 */
export async function refuseRetiredSigningKey(env: KeyringBindings, token: string): Promise<void> {
  const kid = String(peekHeader(token)?.kid);
  const known = verifiers.get(kid);
  let retiresAt = await unlessD1IsDown(() => keyRetirement(database(env.DB), kid));
  if (retiresAt === undefined) {
    if (known) await refreshStatus(known, env.CACHE);
    retiresAt = known?.retiresAt ?? null;
  }
  if (retiresAt === null) return;
  if (known) retireAt(known, retiresAt);
  console.error(
    JSON.stringify({
      msg: "PQC signer: refusing to issue a token with a retired key. The KMS alias points at a key a rotation retired; rotate to a new key (scripts/ops/kms.ts rotate) instead of moving the alias back.",
      kid,
      retiresAt: new Date(retiresAt).toISOString(),
    }),
  );
  throw new ApiError(
    "misconfigured",
    "The token signer's key was retired by a key rotation; issuing resumes once an operator rotates to a new key.",
  );
}

/**
 * Records the key the signer just signed with as the current one (this isolate, KV by `kid`, KV's
 * current-key record and D1's key table), so that the JWKS and verification survive a KMS outage
 * even in isolates that never fetched the key, and a rotation starts its overlap. No KMS call: the
 * signer already holds its public key. Never fails: it runs after the token was issued (in
 * `waitUntil`), and outages are logged.
 */
export async function recordPqcSigningKey(config: Config, env: KeyringBindings): Promise<void> {
  try {
    const jwk = await akpJwk(await pqcSigner(config).publicKey());
    await adoptCurrent(jwk, env.CACHE);
    await publishCurrent(config, env, jwk);
  } catch (error) {
    console.warn(JSON.stringify({ msg: "PQC keyring: the signing key could not be recorded", error: String(error) }));
  }
}

/**
 * The Cron Trigger's part: learn of a rotation even without traffic (the signer's current key), and
 * write the retirement markers of the keys retired within the last day again, in case a KV write
 * was lost while KV was down.
 */
export async function maintainPqcKeys(config: Config, env: KeyringBindings, now = Date.now()): Promise<number> {
  await currentPqcJwk(config, env);
  const retired = await retiredKeysSince(database(env.DB), now - PUBLIC_KEY_CACHE_TTL_SECONDS * 1000);
  await markRetired(env.CACHE, retired, now);
  return retired.length;
}

/** Forgets this isolate's keys and throttle (tests use it to simulate a fresh isolate). */
export function resetPqcKeyringForTests(): void {
  verifiers.clear();
  currentJwk = undefined;
  storedKid = undefined;
  publishedKid = undefined;
  lastSignerFetch = 0;
  signerFetch = new SingleFlight(signerFetch.abandonAfterMs);
}
