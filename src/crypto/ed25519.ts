import { fromBase64Url, toBase64Url, utf8 } from "./encoding";
import type { SigningKey, VerificationKey } from "./jwt";

/** An Ed25519 public key as a JWK (RFC 8037), `kid` = its RFC 7638 thumbprint. */
export interface OkpJwk {
  kty: "OKP";
  crv: "Ed25519";
  x: string;
  alg: "EdDSA";
  kid: string;
  use: "sig";
}

/** PKCS#8 wrapping of a raw 32-byte Ed25519 seed (RFC 8410), since WebCrypto imports private keys only as PKCS#8 or JWK. */
const PKCS8_PREFIX = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]);

/** RFC 7638 thumbprint over `crv`, `kty`, `x` in lexicographic order. */
async function okpThumbprint(x: string): Promise<string> {
  const canonical = JSON.stringify({ crv: "Ed25519", kty: "OKP", x });
  return toBase64Url(new Uint8Array(await crypto.subtle.digest("SHA-256", utf8(canonical))));
}

/**
 * The EdDSA verifier for a raw 32-byte Ed25519 public key (base64url `x`), the one place that turns a
 * public key into a JWS verification key: receipts, gateway assertions and the origin helper share it.
 * WebCrypto refuses non-canonical `S` and malformed points, but *throws* on a signature that is not 64
 * bytes, so that case is answered here as a plain refusal. test/unit/ed25519.test.ts holds it to Wycheproof.
 */
export async function ed25519VerificationKey(kid: string, x: string, alg: "EdDSA" | "Ed25519" = "EdDSA"): Promise<VerificationKey> {
  const publicKey = await crypto.subtle.importKey("raw", fromBase64Url(x), { name: "Ed25519" }, false, ["verify"]);
  return {
    kid,
    alg,
    verify: async (data, signature) =>
      signature.length === ED25519_SIGNATURE_BYTES && crypto.subtle.verify("Ed25519", publicKey, signature, data),
  };
}

const ED25519_SIGNATURE_BYTES = 64;

export interface Ed25519KeyPair {
  signing: SigningKey;
  verification: VerificationKey;
  jwk: OkpJwk;
}

/** The Ed25519 key pair a 32-byte seed (base64url) determines, for EdDSA JWS. */
export async function ed25519FromSeed(seedBase64Url: string): Promise<Ed25519KeyPair> {
  const seed = fromBase64Url(seedBase64Url);
  if (seed.length !== 32) throw new RangeError("an Ed25519 seed is 32 bytes");
  const pkcs8 = new Uint8Array(PKCS8_PREFIX.length + 32);
  pkcs8.set(PKCS8_PREFIX);
  pkcs8.set(seed, PKCS8_PREFIX.length);
  return ed25519FromPkcs8(pkcs8);
}

/** The Ed25519 key pair a PKCS#8 (DER) Ed25519 private key determines (RFC 8410); throws on any other key. */
export async function ed25519FromPkcs8(pkcs8: Uint8Array<ArrayBuffer>): Promise<Ed25519KeyPair> {
  const privateKey = await crypto.subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, true, ["sign"]);
  // The private JWK carries the public `x`; export it once, keep only `x`.
  const { x } = (await crypto.subtle.exportKey("jwk", privateKey)) as JsonWebKey;
  if (!x) throw new Error("Ed25519 export lacked the public key");
  const kid = await okpThumbprint(x);
  return {
    signing: { kid, alg: "EdDSA", sign: async (data) => new Uint8Array(await crypto.subtle.sign("Ed25519", privateKey, data)) },
    verification: await ed25519VerificationKey(kid, x),
    jwk: { kty: "OKP", crv: "Ed25519", x, alg: "EdDSA", kid, use: "sig" },
  };
}
