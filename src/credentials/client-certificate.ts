import { toBase64Url } from "../crypto/encoding";

/** The fields of `request.cf.tlsClientAuth` we rely on (Cloudflare mTLS). */
interface TlsClientAuth {
  certPresented?: string;
  certVerified?: string;
  certFingerprintSHA256?: string;
}

/**
 * The SHA-256 thumbprint (base64url, as RFC 8705's `x5t#S256`) of the client certificate that
 * Cloudflare's edge presented and verified for this request, or undefined. A certificate that was
 * presented but not verified counts as no certificate.
 */
export function verifiedClientCertificate(request: Request): string | undefined {
  const auth = (request as { cf?: { tlsClientAuth?: TlsClientAuth } }).cf?.tlsClientAuth;
  if (auth?.certPresented !== "1" || auth.certVerified !== "SUCCESS") return undefined;
  const hex = auth.certFingerprintSHA256 ?? "";
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) return undefined;
  const bytes = new Uint8Array(32);
  for (let i = 0; i < 32; i++) bytes[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return toBase64Url(bytes);
}
