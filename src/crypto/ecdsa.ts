import { toBase64Url, utf8 } from "./encoding";
import type { SigningKey, VerificationKey } from "./jwt";

/** ES256 is ECDSA on P-256 with SHA-256 (RFC 7518 §3.4); WebCrypto's signature is the JWS form, R || S. */
const P256 = { name: "ECDSA", namedCurve: "P-256" } as const;
const ES256 = { name: "ECDSA", hash: "SHA-256" } as const;
const ES256_SIGNATURE_BYTES = 64;

/** A P-256 public key as a JWK, `kid` = its RFC 7638 thumbprint. */
export interface EcPublicJwk {
  kty: "EC";
  crv: "P-256";
  x: string;
  y: string;
  alg: "ES256";
  use: "sig";
  kid: string;
}

export interface Es256KeyPair {
  signingKey: SigningKey;
  verificationKey: VerificationKey;
  publicJwk: EcPublicJwk;
}

/** RFC 7638 thumbprint over `crv`, `kty`, `x`, `y` in lexicographic order. */
async function ecThumbprint(x: string, y: string): Promise<string> {
  const canonical = JSON.stringify({ crv: "P-256", kty: "EC", x, y });
  return toBase64Url(new Uint8Array(await crypto.subtle.digest("SHA-256", utf8(canonical))));
}

/** A verifier bound to one P-256 public key; a signature that is not exactly 64 bytes is refused, not thrown on. */
export async function es256VerificationKey(jwk: { x: string; y: string }, kid: string): Promise<VerificationKey> {
  const publicKey = await crypto.subtle.importKey("jwk", { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y, ext: true }, P256, false, [
    "verify",
  ]);
  return {
    kid,
    alg: "ES256",
    async verify(data, signature) {
      if (signature.length !== ES256_SIGNATURE_BYTES) return false;
      try {
        return await crypto.subtle.verify(ES256, publicKey, signature, data);
      } catch {
        return false;
      }
    },
  };
}

/** The ES256 key pair a PKCS#8 (DER) P-256 private key determines; throws on any other key. */
export async function es256KeyPairFromPkcs8(pkcs8: Uint8Array<ArrayBuffer>): Promise<Es256KeyPair> {
  const exportable = await crypto.subtle.importKey("pkcs8", pkcs8, P256, true, ["sign"]);
  const { x, y } = (await crypto.subtle.exportKey("jwk", exportable)) as JsonWebKey;
  if (typeof x !== "string" || typeof y !== "string") throw new TypeError("not a P-256 private key");
  const privateKey = await crypto.subtle.importKey("pkcs8", pkcs8, P256, false, ["sign"]);
  const kid = await ecThumbprint(x, y);
  return {
    signingKey: { kid, alg: "ES256", sign: async (data) => new Uint8Array(await crypto.subtle.sign(ES256, privateKey, data)) },
    verificationKey: await es256VerificationKey({ x, y }, kid),
    publicJwk: { kty: "EC", crv: "P-256", x, y, alg: "ES256", use: "sig", kid },
  };
}
