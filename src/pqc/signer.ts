import { fromBase64Url } from "../crypto/encoding";
import type { SigningKey } from "../crypto/jwt";
import { mlDsa65 } from "../crypto/ml-dsa";
import type { Config } from "../env";
import { SingleFlight } from "../platform/single-flight";
import { akpThumbprint, rawPublicKeyFromSpki } from "./akp";
import { KmsClient } from "./kms-client";

/** Longer than a KMS GetPublicKey can take (the client's 3 attempts of 2 s, and backoff): a fetch still running then was abandoned. */
export const SIGNER_FETCH_ABANDONED_MS = 10_000;

/**
 * Where PQC signatures come from: AWS KMS in production, a local seed in development.
 * Either way the token format, `kid` (the key's RFC 7638 thumbprint) and verification are the same.
 */
export interface PqcSigner {
  readonly kind: "local" | "kms";
  /** The signer's current public key (raw, 1952 bytes). KMS: one GetPublicKey call per isolate. */
  publicKey(): Promise<Uint8Array>;
  /** A JWS signing key whose `kid` is the current public key's thumbprint. */
  signingKey(): Promise<SigningKey>;
}

function localSigner(seed: string): PqcSigner {
  // Shared across requests as promises: safe, since they wait on key derivation only, no I/O.
  const keyPair = mlDsa65().then((impl) => impl.signerFromSeed(fromBase64Url(seed)));
  const signingKey = keyPair.then(async (pair) => ({
    kid: await akpThumbprint(pair.publicKey),
    alg: "ML-DSA-65" as const,
    sign: (data: Uint8Array<ArrayBuffer>) => pair.sign(data),
  }));
  return { kind: "local", publicKey: async () => (await keyPair).publicKey, signingKey: () => signingKey };
}

/**
 * Thrown when KMS signed with another key than the one whose `kid` the header carries: the alias
 * was moved to a new key. The signer has forgotten the old key; signing again picks up the new one.
 */
export class SigningKeyChangedError extends Error {
  override name = "SigningKeyChangedError";
}

function kmsSigner(settings: Extract<Config["pqc"]["signer"], { kind: "kms" }>): PqcSigner {
  const kms = new KmsClient(settings);
  // The key as a value, never as the fetch's promise, which belongs to the request that started it.
  let current: { keyId: string; publicKey: Uint8Array } | undefined;
  const fetching = new SingleFlight<{ keyId: string; publicKey: Uint8Array }>(SIGNER_FETCH_ABANDONED_MS);
  const loadKey = async () =>
    // A failed fetch is not cached, so the next caller tries again.
    current ??
    fetching.run(async () => {
      const { keyId, spki } = await kms.getPublicKey();
      current = { keyId, publicKey: rawPublicKeyFromSpki(spki) };
      return current;
    });
  return {
    kind: "kms",
    publicKey: async () => (await loadKey()).publicKey,
    async signingKey() {
      const key = await loadKey();
      const kid = await akpThumbprint(key.publicKey);
      return {
        kid,
        alg: "ML-DSA-65",
        async sign(data) {
          const { keyId, signature } = await kms.sign(data);
          if (keyId !== key.keyId) {
            current = undefined;
            throw new SigningKeyChangedError(`KMS signed with ${keyId}, expected ${key.keyId}`);
          }
          return signature;
        },
      };
    },
  };
}

const signers = new WeakMap<Config, PqcSigner>();

/** The configured signer, built once per isolate and config. */
export function pqcSigner(config: Config): PqcSigner {
  let signer = signers.get(config);
  if (!signer) {
    signer = config.pqc.signer.kind === "local" ? localSigner(config.pqc.signer.seed) : kmsSigner(config.pqc.signer);
    signers.set(config, signer);
  }
  return signer;
}
