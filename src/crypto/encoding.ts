/** Byte encodings used by tokens and storage. WebCrypto gives bytes; storage and headers want text. */

const textEncoder = new TextEncoder();

export function utf8(text: string): Uint8Array<ArrayBuffer> {
  return textEncoder.encode(text) as Uint8Array<ArrayBuffer>;
}

/**
 * The length of `text` in UTF-8, counted without encoding it: 1 byte below U+0080, 2 below U+0800,
 * 4 for a surrogate pair and 3 for every other unit (a lone surrogate encodes as U+FFFD, 3 bytes).
 */
export function utf8ByteLength(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4;
      i += 1;
    } else bytes += 3;
  }
  return bytes;
}

export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const byte of bytes) out += byte.toString(16).padStart(2, "0");
  return out;
}

export function toBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const BASE64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/**
 * Decodes unpadded base64url strictly: only the alphabet, no impossible length, and no set bits
 * in the unused tail (RFC 4648 §3.5), so every byte string has exactly one accepted spelling.
 * Throws TypeError otherwise.
 */
export function fromBase64Url(text: string): Uint8Array<ArrayBuffer> {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) throw new TypeError("not base64url");
  // The last character of a 2- or 3-character tail carries 4 or 2 unused bits; they must be zero.
  const tail = text.length % 4;
  if (tail !== 0 && (BASE64URL_ALPHABET.indexOf(text[text.length - 1]!) & (tail === 2 ? 0x0f : 0x03)) !== 0) {
    throw new TypeError("not canonical base64url");
  }
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - tail) % 4));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Standard, padded base64 (as AWS's JSON APIs use). */
export function toBase64(bytes: Uint8Array): string {
  const url = toBase64Url(bytes);
  return url.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (url.length % 4)) % 4);
}

export function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  return fromBase64Url(text.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, ""));
}
