// No Worker imports here: the e2e tests (Node) compute codes with this module as well.

/**
 * RFC 4226/6238 codes computed here, independently of the Worker's library: HMAC-SHA1 over the
 * big-endian step, dynamic truncation, 6 digits.
 */
export async function hotp(key: Uint8Array<ArrayBuffer>, step: number): Promise<string> {
  const counter = new Uint8Array(8);
  new DataView(counter.buffer).setBigUint64(0, BigInt(step));
  const hmacKey = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-1" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", hmacKey, counter));
  const offset = mac[19]! & 0x0f;
  const binary = ((mac[offset]! & 0x7f) << 24) | (mac[offset + 1]! << 16) | (mac[offset + 2]! << 8) | mac[offset + 3]!;
  return String(binary % 1_000_000).padStart(6, "0");
}

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** Decodes unpadded RFC 4648 base32, as authenticator apps read the `secret` of an otpauth URI. */
export function fromBase32(text: string): Uint8Array<ArrayBuffer> {
  const bits = [...text.toUpperCase()].map((char) => BASE32.indexOf(char).toString(2).padStart(5, "0")).join("");
  const bytes = new Uint8Array(Math.floor(bits.length / 8));
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(bits.slice(i * 8, i * 8 + 8), 2);
  return bytes;
}

export const currentStep = (offset = 0) => Math.floor(Date.now() / 30_000) + offset;

/** An authenticator app holding one secret: the code of the current step, or of a step nearby. */
export interface Authenticator {
  secret: Uint8Array<ArrayBuffer>;
  code(offset?: number): Promise<string>;
}

export function authenticatorFor(otpauthUri: string): Authenticator {
  const secret = fromBase32(new URL(otpauthUri).searchParams.get("secret")!);
  return { secret, code: (offset = 0) => hotp(secret, currentStep(offset)) };
}
