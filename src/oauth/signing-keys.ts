import { type EcPublicJwk, type Es256KeyPair, es256KeyPairFromPkcs8 } from "../crypto/ecdsa";
import { ed25519FromPkcs8, type OkpJwk } from "../crypto/ed25519";
import { fromBase64Url } from "../crypto/encoding";
import type { SigningKey, VerificationKey } from "../crypto/jwt";
import { type RsaPublicJwk, rs256KeyPairFromPkcs8 } from "../crypto/rsa";
import { type Config, ConfigError } from "../env";
import type { OAuthSigningAlgorithm } from "./client-schemas";
import type { SigningKeyEntry } from "./signing-key-config";

/** One `OIDC_SIGNING_KEYS` entry, imported: it signs only while `active`, and verifies and is published in every status. */
export interface OAuthKey {
  status: SigningKeyEntry["status"];
  signingKey: SigningKey;
  verificationKey: VerificationKey;
  publicJwk: RsaPublicJwk | EcPublicJwk | OkpJwk;
}

async function importKey(entry: SigningKeyEntry): Promise<OAuthKey> {
  const pkcs8 = fromBase64Url(entry.privateKey);
  if (entry.alg === "EdDSA") {
    const pair = await ed25519FromPkcs8(pkcs8);
    return { status: entry.status, signingKey: pair.signing, verificationKey: pair.verification, publicJwk: pair.jwk };
  }
  const pair: Es256KeyPair | Awaited<ReturnType<typeof rs256KeyPairFromPkcs8>> =
    entry.alg === "ES256" ? await es256KeyPairFromPkcs8(pkcs8) : await rs256KeyPairFromPkcs8(pkcs8);
  return { status: entry.status, ...pair };
}

// Shared across requests as a promise: safe, since it waits on WebCrypto only, no I/O (src/platform/single-flight.ts says why I/O differs).
const imported = new WeakMap<Config, Promise<OAuthKey[]>>();

/** Every configured key, imported once per isolate; a key that is not what its entry says is a ConfigError (503). */
export function oauthKeys(config: Config): Promise<OAuthKey[]> {
  let keys = imported.get(config);
  if (!keys) {
    const entries = config.oauth?.signingKeys ?? [];
    keys = Promise.all(
      entries.map((entry, index) =>
        importKey(entry).catch((error: unknown) => {
          throw new ConfigError(`OIDC_SIGNING_KEYS[${index}] is not a ${entry.alg} private key (PKCS#8): ${String(error)}`);
        }),
      ),
    );
    imported.set(config, keys);
  }
  return keys;
}

/** The key that signs tokens of `alg` now: the active one (env.ts makes it unique; RS256 always has one). */
export async function activeSigningKey(config: Config, alg: OAuthSigningAlgorithm): Promise<SigningKey> {
  const key = (await oauthKeys(config)).find((candidate) => candidate.status === "active" && candidate.signingKey.alg === alg);
  if (!key) throw new ConfigError(`OIDC_SIGNING_KEYS has no active ${alg} key`);
  return key.signingKey;
}

/** The key with exactly this `kid`, whatever its status: a retiring key's tokens verify until they expire. */
export async function oauthVerificationKey(config: Config, kid: string): Promise<VerificationKey | undefined> {
  return (await oauthKeys(config)).find((key) => key.verificationKey.kid === kid)?.verificationKey;
}

/** What `/.well-known/jwks.json` adds: every key in every status, the next one before it signs. */
export async function publishedOAuthJwks(config: Config): Promise<OAuthKey["publicJwk"][]> {
  return (await oauthKeys(config)).map((key) => key.publicJwk);
}
