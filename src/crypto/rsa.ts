import { toBase64Url, utf8 } from "./encoding";
import type { SigningKey, VerificationKey } from "./jwt";

/** RS256 is RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 §3.3). */
const RS256 = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as const;

/** RFC 7518 §3.3: a key of 2048 bits or larger MUST be used with RS256. */
export const RSA_MIN_MODULUS_BITS = 2048;

/** An RSA public key as a JWK, carrying its RFC 7638 thumbprint as `kid`. */
export interface RsaPublicJwk {
  kty: "RSA";
  alg: "RS256";
  use: "sig";
  kid: string;
  n: string;
  e: string;
}

export interface Rs256KeyPair {
  signingKey: SigningKey;
  verificationKey: VerificationKey;
  publicJwk: RsaPublicJwk;
}

/** RFC 7638 thumbprint over the required RSA members in lexicographic order: `e`, `kty`, `n`. */
export async function rsaThumbprint(jwk: { n: string; e: string }): Promise<string> {
  const canonical = JSON.stringify({ e: jwk.e, kty: "RSA", n: jwk.n });
  return toBase64Url(new Uint8Array(await crypto.subtle.digest("SHA-256", utf8(canonical))));
}

function modulusBits(n: string): number {
  // base64url without padding: every 4 characters carry 3 bytes.
  return Math.floor((n.length * 6) / 8) * 8;
}

/** A verifier bound to one RSA public key; it only ever checks RS256 signatures. */
export async function rs256VerificationKey(jwk: { n: string; e: string }, kid: string): Promise<VerificationKey> {
  const publicKey = await crypto.subtle.importKey("jwk", { kty: "RSA", n: jwk.n, e: jwk.e, ext: true }, RS256, false, ["verify"]);
  return {
    kid,
    alg: "RS256",
    async verify(data, signature) {
      try {
        return await crypto.subtle.verify(RS256.name, publicKey, signature, data);
      } catch {
        return false;
      }
    },
  };
}

/**
 * The RS256 key pair a PKCS#8 (DER) RSA private key determines. The private key is imported
 * twice: once extractable, only long enough to read its public members, and once for signing,
 * non-extractable. Throws on anything that is not an RSA key of at least 2048 bits.
 */
export async function rs256KeyPairFromPkcs8(pkcs8: Uint8Array<ArrayBuffer>): Promise<Rs256KeyPair> {
  const exportable = await crypto.subtle.importKey("pkcs8", pkcs8, RS256, true, ["sign"]);
  const { n, e } = (await crypto.subtle.exportKey("jwk", exportable)) as JsonWebKey;
  if (typeof n !== "string" || typeof e !== "string") throw new TypeError("not an RSA private key");
  if (modulusBits(n) < RSA_MIN_MODULUS_BITS) throw new RangeError(`RS256 needs an RSA key of at least ${RSA_MIN_MODULUS_BITS} bits`);

  const privateKey = await crypto.subtle.importKey("pkcs8", pkcs8, RS256, false, ["sign"]);
  const kid = await rsaThumbprint({ n, e });
  return {
    signingKey: {
      kid,
      alg: "RS256",
      sign: async (data) => new Uint8Array(await crypto.subtle.sign(RS256.name, privateKey, data)),
    },
    verificationKey: await rs256VerificationKey({ n, e }, kid),
    publicJwk: { kty: "RSA", alg: "RS256", use: "sig", kid, n, e },
  };
}
