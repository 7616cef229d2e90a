/**
 * The `hdy_` API key format, designed to be recognisable by secret scanners without a database:
 *
 *   hdy_ <43 base62 characters: 256 bits from the CSPRNG> <6 base62 characters: CRC-32 of those 43>
 *
 * 53 characters in all, matching `^hdy_[0-9A-Za-z]{49}$`. The checksum is not a secret and
 * not a MAC: it only lets a scanner (and our verifier, before touching storage) tell a real
 * key from noise. The display prefix is `hdy_` plus the first 8 entropy characters.
 */
export const API_KEY_PREFIX = "hdy_";
export const API_KEY_ENTROPY_CHARS = 43;
export const API_KEY_CHECKSUM_CHARS = 6;
export const API_KEY_PATTERN = /^hdy_[0-9A-Za-z]{49}$/;
const DISPLAY_PREFIX_CHARS = 8;

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/** Bytes at or above this are rejected so that `byte % 62` stays uniform (248 = 4 × 62). */
const UNBIASED_LIMIT = 248;

function randomBase62(length: number): string {
  let out = "";
  while (out.length < length) {
    for (const byte of crypto.getRandomValues(new Uint8Array(length * 2))) {
      if (byte < UNBIASED_LIMIT) out += BASE62[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

const CRC32_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE 802.3, as in zlib) of an ASCII string. */
export function crc32(text: string): number {
  let crc = 0xffffffff;
  for (let i = 0; i < text.length; i++) crc = CRC32_TABLE[(crc ^ text.charCodeAt(i)) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function checksum(entropy: string): string {
  let value = crc32(entropy);
  let out = "";
  for (let i = 0; i < API_KEY_CHECKSUM_CHARS; i++) {
    out = BASE62[value % 62] + out;
    value = Math.floor(value / 62);
  }
  return out;
}

/** The key for 43 base62 characters of entropy: prefix, entropy, checksum. */
export function formatApiKey(entropy: string): string {
  return `${API_KEY_PREFIX}${entropy}${checksum(entropy)}`;
}

/** A new API key, and the prefix that may be shown and stored in clear. */
export function generateApiKey(): { key: string; displayPrefix: string } {
  const entropy = randomBase62(API_KEY_ENTROPY_CHARS);
  return { key: formatApiKey(entropy), displayPrefix: `${API_KEY_PREFIX}${entropy.slice(0, DISPLAY_PREFIX_CHARS)}` };
}

/** True when the string has the key's shape and its checksum matches: no storage is touched. */
export function hasValidApiKeyChecksum(candidate: string): boolean {
  if (!API_KEY_PATTERN.test(candidate)) return false;
  const entropy = candidate.slice(API_KEY_PREFIX.length, API_KEY_PREFIX.length + API_KEY_ENTROPY_CHARS);
  return candidate.endsWith(checksum(entropy));
}
