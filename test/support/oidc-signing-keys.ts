import { toBase64Url } from "../../src/crypto/encoding";
import type { OAuthSigningAlgorithm } from "../../src/oauth/client-schemas";
import type { SigningKeyEntry } from "../../src/oauth/signing-key-config";

const GENERATE = {
  RS256: { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
  ES256: { name: "ECDSA", namedCurve: "P-256" },
  EdDSA: { name: "Ed25519" },
} as const;

/**
 * A fresh `OIDC_SIGNING_KEYS` value for a local run: one active key per algorithm, PKCS#8 DER,
 * base64url, made with WebCrypto, so the workerd tests and the bench's micro-benchmark Worker share it.
 * (`npm run dev` and vitest.config.ts make theirs with Node's crypto: `oidcSigningKey` in
 * scripts/dev/dev-vars.ts.)
 */
export async function generateOidcSigningKeys(algorithms: readonly OAuthSigningAlgorithm[] = ["RS256", "ES256", "EdDSA"]): Promise<string> {
  const entries: SigningKeyEntry[] = [];
  for (const alg of algorithms) {
    const pair = (await crypto.subtle.generateKey(GENERATE[alg], true, ["sign", "verify"])) as CryptoKeyPair;
    const pkcs8 = new Uint8Array((await crypto.subtle.exportKey("pkcs8", pair.privateKey)) as ArrayBuffer);
    entries.push({ alg, privateKey: toBase64Url(pkcs8), status: "active" });
  }
  return JSON.stringify(entries);
}
