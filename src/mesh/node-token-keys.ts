import { fromBase64Url } from "../crypto/encoding";
import type { SigningKey, VerificationKey } from "../crypto/jwt";
import { type Rs256KeyPair, type RsaPublicJwk, rs256KeyPairFromPkcs8 } from "../crypto/rsa";
import { type Config, ConfigError } from "../env";
import { pqcVerificationKey } from "../pqc/keyring";
import { pqcSigner } from "../pqc/signer";

/**
 * The SAGE authority's keys: which key signs node tokens, and which verifies them by `kid`.
 * - RS256 (the default, docs/mesh.md): the `SAGE_PRIVATE_KEY` secret, imported once per isolate;
 *   its `kid` is the RFC 7638 thumbprint of the public JWK, which the JWKS publishes.
 * - ML-DSA-65: the PQC signer (KMS in production, the local seed in dev) and its keyring, so
 *   node tokens get the same key handling and JWKS entry as PQC tokens; `typ` and `aud` keep
 *   the two kinds apart.
 */
// Shared across requests as a promise: safe, since it waits on WebCrypto only, no I/O (src/platform/single-flight.ts says why I/O differs).
const rsaKeys = new WeakMap<Config, Promise<Rs256KeyPair>>();

function nodeTokenRsaKeyPair(config: Config): Promise<Rs256KeyPair> {
  let pair = rsaKeys.get(config);
  if (!pair) {
    const secret = config.mesh.nodeTokenPrivateKey;
    pair = secret
      ? rs256KeyPairFromPkcs8(fromBase64Url(secret)).catch((error: unknown) => {
          throw new ConfigError(`SAGE_PRIVATE_KEY could not be imported: ${String(error)}`);
        })
      : Promise.reject(new ConfigError("SAGE_PRIVATE_KEY is not set"));
    rsaKeys.set(config, pair);
  }
  return pair;
}

/** The key that signs new node tokens, in the configured algorithm. */
export async function nodeTokenSigningKey(config: Config): Promise<SigningKey> {
  if (config.mesh.tokenAlgorithm === "ML-DSA-65") return pqcSigner(config).signingKey();
  return (await nodeTokenRsaKeyPair(config)).signingKey;
}

/** The key with exactly this `kid`, in the configured algorithm only; undefined for any other. */
export async function nodeTokenVerificationKey(config: Config, cache: KVNamespace, kid: string): Promise<VerificationKey | undefined> {
  if (config.mesh.tokenAlgorithm === "ML-DSA-65") return pqcVerificationKey(config, cache, kid);
  const { verificationKey } = await nodeTokenRsaKeyPair(config);
  return verificationKey.kid === kid ? verificationKey : undefined;
}

/** The SAGE RSA public key for the JWKS, when one is configured (ML-DSA keys are published as PQC keys). */
export async function nodeTokenPublicJwk(config: Config): Promise<RsaPublicJwk | undefined> {
  if (!config.mesh.nodeTokenPrivateKey) return undefined;
  return (await nodeTokenRsaKeyPair(config)).publicJwk;
}
