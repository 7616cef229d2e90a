import { toBase64Url, toHex } from "./encoding";

/** Bytes from the platform CSPRNG. */
export function randomBytes(length: number): Uint8Array<ArrayBuffer> {
  return crypto.getRandomValues(new Uint8Array(length));
}

export function randomHex(length: number): string {
  return toHex(randomBytes(length));
}

export function randomBase64Url(length: number): string {
  return toBase64Url(randomBytes(length));
}
