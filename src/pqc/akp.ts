import { fromBase64Url, toBase64Url, utf8 } from "../crypto/encoding";
import { ML_DSA_65 } from "../crypto/ml-dsa";

/** An ML-DSA-65 public key as a JWK (RFC 9964: `kty: "AKP"`, `pub` = the raw key). */
export interface AkpJwk {
  kty: "AKP";
  alg: "ML-DSA-65";
  pub: string;
  kid: string;
  use: "sig";
}

/**
 * KMS returns ML-DSA-65 public keys as DER SubjectPublicKeyInfo: a fixed 22-byte prefix
 * (AlgorithmIdentifier with OID 2.16.840.1.101.3.4.3.18) followed by the raw 1952-byte key.
 */
const SPKI_PREFIX_HEX = "308207b2300b0609608648016503040312038207a100";

/** The raw public key inside an ML-DSA-65 SPKI, refusing anything else. */
export function rawPublicKeyFromSpki(spki: Uint8Array): Uint8Array {
  const prefixBytes = SPKI_PREFIX_HEX.length / 2;
  const prefix = [...spki.subarray(0, prefixBytes)].map((b) => b.toString(16).padStart(2, "0")).join("");
  if (spki.length !== prefixBytes + ML_DSA_65.publicKeyBytes || prefix !== SPKI_PREFIX_HEX) {
    throw new RangeError("not an ML-DSA-65 SubjectPublicKeyInfo");
  }
  return spki.slice(prefixBytes);
}

/** RFC 7638 thumbprint over the required AKP members in lexicographic order: `alg`, `kty`, `pub`. */
export async function akpThumbprint(publicKey: Uint8Array): Promise<string> {
  const canonical = JSON.stringify({ alg: "ML-DSA-65", kty: "AKP", pub: toBase64Url(publicKey) });
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", utf8(canonical)));
  return toBase64Url(digest);
}

export async function akpJwk(publicKey: Uint8Array): Promise<AkpJwk> {
  return { kty: "AKP", alg: "ML-DSA-65", pub: toBase64Url(publicKey), kid: await akpThumbprint(publicKey), use: "sig" };
}

/** The raw public key of an AKP JWK that we published or cached; throws on anything else. */
export function publicKeyFromJwk(jwk: AkpJwk): Uint8Array {
  if (jwk.kty !== "AKP" || jwk.alg !== "ML-DSA-65") throw new TypeError("not an ML-DSA-65 AKP JWK");
  return fromBase64Url(jwk.pub);
}
