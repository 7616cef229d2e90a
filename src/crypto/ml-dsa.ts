import { ml_dsa65 } from "@noble/post-quantum/ml-dsa.js";

/**
 * ML-DSA-65 (FIPS 204), pure, with the empty context RFC 9964 requires. This is the only
 * module that knows whether native WebCrypto (workerd with `webcrypto_modern_algorithms`) or
 * `@noble/post-quantum` does the work; natively, verify is about 25× faster.
 */
export const ML_DSA_65 = { publicKeyBytes: 1952, signatureBytes: 3309, seedBytes: 32 } as const;

export type MessageVerifier = (message: Uint8Array<ArrayBuffer>, signature: Uint8Array<ArrayBuffer>) => Promise<boolean>;

export interface MlDsa65Signer {
  publicKey: Uint8Array;
  sign(message: Uint8Array<ArrayBuffer>): Promise<Uint8Array>;
}

export interface MlDsa65 {
  readonly implementation: "webcrypto" | "noble";
  /** A verifier bound to one raw 1952-byte public key. Throws if the key has the wrong length. */
  verifier(publicKey: Uint8Array): Promise<MessageVerifier>;
  /** The key pair a 32-byte seed determines (FIPS 204 ML-DSA.KeyGen_internal). */
  signerFromSeed(seed: Uint8Array): Promise<MlDsa65Signer>;
}

const ALGORITHM = { name: "ML-DSA-65" };

function assertLength(bytes: Uint8Array, expected: number, what: string): void {
  if (bytes.length !== expected) throw new RangeError(`${what} must be ${expected} bytes, got ${bytes.length}`);
}

export const webCryptoMlDsa65: MlDsa65 = {
  implementation: "webcrypto",
  async verifier(publicKey) {
    assertLength(publicKey, ML_DSA_65.publicKeyBytes, "ML-DSA-65 public key");
    const key = await crypto.subtle.importKey("raw-public" as "raw", publicKey as Uint8Array<ArrayBuffer>, ALGORITHM, false, ["verify"]);
    return async (message, signature) => {
      if (signature.length !== ML_DSA_65.signatureBytes) return false;
      try {
        return await crypto.subtle.verify(ALGORITHM, key, signature, message);
      } catch {
        return false;
      }
    };
  },
  async signerFromSeed(seed) {
    assertLength(seed, ML_DSA_65.seedBytes, "ML-DSA-65 seed");
    const privateKey = await crypto.subtle.importKey("raw-seed" as "raw", seed as Uint8Array<ArrayBuffer>, ALGORITHM, false, ["sign"]);
    // The public key is a deterministic function of the seed; noble derives it without exporting the private key.
    const publicKey = ml_dsa65.keygen(seed).publicKey;
    return {
      publicKey,
      sign: async (message) => new Uint8Array(await crypto.subtle.sign(ALGORITHM, privateKey, message)),
    };
  },
};

export const nobleMlDsa65: MlDsa65 = {
  implementation: "noble",
  async verifier(publicKey) {
    assertLength(publicKey, ML_DSA_65.publicKeyBytes, "ML-DSA-65 public key");
    return async (message, signature) => {
      if (signature.length !== ML_DSA_65.signatureBytes) return false;
      try {
        return ml_dsa65.verify(signature, message, publicKey);
      } catch {
        return false;
      }
    };
  },
  async signerFromSeed(seed) {
    assertLength(seed, ML_DSA_65.seedBytes, "ML-DSA-65 seed");
    const { publicKey, secretKey } = ml_dsa65.keygen(seed);
    return { publicKey, sign: async (message) => ml_dsa65.sign(message, secretKey) };
  },
};

// Shared across requests as a promise: safe, since it waits on WebCrypto only, no I/O (src/platform/single-flight.ts says why I/O differs).
let selected: Promise<MlDsa65> | undefined;

/** The fastest implementation this runtime has, chosen once per isolate. */
export function mlDsa65(): Promise<MlDsa65> {
  selected ??= crypto.subtle.importKey("raw-seed" as "raw", new Uint8Array(ML_DSA_65.seedBytes), ALGORITHM, false, ["sign"]).then(
    () => webCryptoMlDsa65,
    () => nobleMlDsa65,
  );
  return selected;
}
