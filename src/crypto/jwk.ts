import { es256VerificationKey } from "./ecdsa";
import { ed25519VerificationKey } from "./ed25519";
import type { VerificationKey } from "./jwt";
import { rs256VerificationKey } from "./rsa";

/**
 * A verifier for a public JWK someone else holds the private key of (an OAuth client's
 * `private_key_jwt` keys): RSA (RS256), P-256 (ES256) or Ed25519 (`EdDSA`, or `Ed25519` when the
 * JWK's `alg` says so, as RFC 9864 clients send), each bound to its one algorithm and its `kid`. Anything else, or a JWK whose `alg` names another algorithm, is undefined.
 */
export async function verificationKeyFromJwk(jwk: Record<string, unknown>): Promise<VerificationKey | undefined> {
  const kid = jwk.kid;
  if (typeof kid !== "string") return undefined;
  const text = (name: string) => (typeof jwk[name] === "string" ? (jwk[name] as string) : undefined);
  const declared = text("alg");
  try {
    if (jwk.kty === "RSA" && text("n") && text("e") && (declared ?? "RS256") === "RS256") {
      return await rs256VerificationKey({ n: text("n")!, e: text("e")! }, kid);
    }
    if (jwk.kty === "EC" && jwk.crv === "P-256" && text("x") && text("y") && (declared ?? "ES256") === "ES256") {
      return await es256VerificationKey({ x: text("x")!, y: text("y")! }, kid);
    }
    const okpAlg = declared ?? "EdDSA";
    if (jwk.kty === "OKP" && jwk.crv === "Ed25519" && text("x") && (okpAlg === "EdDSA" || okpAlg === "Ed25519")) {
      return await ed25519VerificationKey(kid, text("x")!, okpAlg);
    }
  } catch {
    return undefined;
  }
  return undefined;
}
