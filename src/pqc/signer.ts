import type { Config } from "../env";
import { fromBase64Url } from "../crypto/encoding";
import type { SigningKey } from "../crypto/jwt";
import { mlDsa65 } from "../crypto/ml-dsa";
import { akpThumbprint, rawPublicKeyFromSpki } from "./akp";
import { KmsClient } from "./kms-client";

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
  const keyPair = mlDsa65().then((impl) => impl.signerFromSeed(fromBase64Url(seed)));
  const signingKey = keyPair.then(async (pair) => ({
    kid: await akpThumbprint(pair.publicKey),
    alg: "ML-DSA-65" as const,
    sign: (data: Uint8Array<ArrayBuffer>) => pair.sign(data),
  }));
  return { kind: "local", publicKey: async () => (await keyPair).publicKey, signingKey: () => signingKey };
}

function kmsSigner(settings: Extract<Config["pqc"]["signer"], { kind: "kms" }>): PqcSigner {
  const kms = new KmsClient(settings);
  let publicKey: Promise<Uint8Array> | undefined;
  const loadPublicKey = () => {
    // A failed fetch is not cached, so the next caller tries again.
    publicKey ??= kms.getPublicKey().then(rawPublicKeyFromSpki, (error) => {
      publicKey = undefined;
      throw error;
    });
    return publicKey;
  };
  return {
    kind: "kms",
    publicKey: loadPublicKey,
    async signingKey() {
      const kid = await akpThumbprint(await loadPublicKey());
      return { kid, alg: "ML-DSA-65", sign: (data) => kms.sign(data) };
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
