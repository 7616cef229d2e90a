import { fromBase64Url } from "./encoding";
import type { SigningKey, VerificationKey } from "./jwt";

/** An HS256 key that both signs and verifies (WebCrypto's HMAC verify is constant-time). */
export async function hs256Key(kid: string, secretBase64Url: string): Promise<SigningKey & VerificationKey> {
  const key = await crypto.subtle.importKey("raw", fromBase64Url(secretBase64Url), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
    "verify",
  ]);
  return {
    kid,
    alg: "HS256",
    sign: async (data) => new Uint8Array(await crypto.subtle.sign("HMAC", key, data)),
    verify: (data, signature) => crypto.subtle.verify("HMAC", key, signature, data),
  };
}
