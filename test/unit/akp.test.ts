import { calculateJwkThumbprint } from "jose";
import { describe, expect, it } from "vitest";
import { ML_DSA_65 } from "../../src/crypto/ml-dsa";
import { type AkpJwk, akpJwk, akpThumbprint, publicKeyFromJwk, rawPublicKeyFromSpki } from "../../src/pqc/akp";
import { base64url, fromBase64url } from "../support/encoding";
import vectors from "../vectors/wycheproof/mldsa_65_verify_test.json";

/** AKP JWKs (RFC 9964), their RFC 7638 thumbprints, and ML-DSA-65 SubjectPublicKeyInfo parsing. */

const hex = (text: string) => Uint8Array.from(text.match(/../g) ?? [], (pair) => parseInt(pair, 16));
const SPKI_PREFIX = hex("308207b2300b0609608648016503040312038207a100");

/** A real ML-DSA-65 key and its DER SPKI, from the Wycheproof file (independent of our code). */
const group = vectors.testGroups.find((g) => g.publicKey.length === ML_DSA_65.publicKeyBytes * 2 && g.publicKeyDer.startsWith("308207b2"))!;
const publicKey = hex(group.publicKey);
const spki = hex(group.publicKeyDer);

async function sha256Base64url(text: string): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text))));
}

describe("akpThumbprint (RFC 7638 over alg, kty, pub)", () => {
  it('is the SHA-256 of exactly {"alg","kty","pub"} in that order, without whitespace', async () => {
    const canonical = `{"alg":"ML-DSA-65","kty":"AKP","pub":"${base64url(publicKey)}"}`;
    expect(await akpThumbprint(publicKey)).toBe(await sha256Base64url(canonical));
  });

  it("differs from a thumbprint over any other member order (the order is what makes it canonical)", async () => {
    const pub = base64url(publicKey);
    const thumbprint = await akpThumbprint(publicKey);
    for (const wrong of [`{"kty":"AKP","alg":"ML-DSA-65","pub":"${pub}"}`, `{"pub":"${pub}","kty":"AKP","alg":"ML-DSA-65"}`]) {
      expect(thumbprint).not.toBe(await sha256Base64url(wrong));
    }
  });

  it("agrees with jose's independent RFC 7638 implementation, and ignores kid and use", async () => {
    const jwk = await akpJwk(publicKey);
    expect(await akpThumbprint(publicKey)).toBe(await calculateJwkThumbprint({ kty: "AKP", alg: "ML-DSA-65", pub: jwk.pub }));
    expect(await calculateJwkThumbprint({ ...jwk })).toBe(jwk.kid);
  });

  it("is 43 base64url characters (32 bytes) and differs between keys", async () => {
    const thumbprint = await akpThumbprint(publicKey);
    expect(thumbprint).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const other = publicKey.slice();
    other[0] = other[0]! ^ 1;
    expect(await akpThumbprint(other)).not.toBe(thumbprint);
  });
});

describe("akpJwk / publicKeyFromJwk", () => {
  it("publishes kty AKP, alg ML-DSA-65, the raw key as pub, kid = thumbprint, use sig, and nothing else", async () => {
    const jwk = await akpJwk(publicKey);
    expect(jwk).toEqual({ kty: "AKP", alg: "ML-DSA-65", pub: base64url(publicKey), kid: await akpThumbprint(publicKey), use: "sig" });
    expect(fromBase64url(jwk.pub)).toHaveLength(ML_DSA_65.publicKeyBytes);
    expect(jwk).not.toHaveProperty("priv");
  });

  it("round-trips the raw key and refuses a JWK of another type or algorithm", async () => {
    const jwk = await akpJwk(publicKey);
    expect(publicKeyFromJwk(jwk)).toEqual(publicKey);
    expect(() => publicKeyFromJwk({ ...jwk, kty: "OKP" } as unknown as AkpJwk)).toThrow(TypeError);
    expect(() => publicKeyFromJwk({ ...jwk, alg: "ML-DSA-44" } as unknown as AkpJwk)).toThrow(TypeError);
  });
});

describe("rawPublicKeyFromSpki (KMS GetPublicKey answers DER SPKI)", () => {
  it("strips the fixed 22-byte prefix of a 1974-byte ML-DSA-65 SPKI", () => {
    expect(spki).toHaveLength(1974);
    expect(spki.subarray(0, 22)).toEqual(SPKI_PREFIX);
    expect(rawPublicKeyFromSpki(spki)).toEqual(publicKey);
  });

  it("returns a copy, not a view into the DER", () => {
    const raw = rawPublicKeyFromSpki(spki);
    expect(raw.byteOffset).toBe(0);
    expect(raw.buffer.byteLength).toBe(ML_DSA_65.publicKeyBytes);
  });

  it.each([
    ["ML-DSA-44's OID (…03 11)", (der: Uint8Array) => der.set([0x11], 16)],
    ["ML-DSA-87's OID (…03 13)", (der: Uint8Array) => der.set([0x13], 16)],
    ["a different outer SEQUENCE length", (der: Uint8Array) => der.set([0xb3], 3)],
    ["a BIT STRING with unused bits", (der: Uint8Array) => der.set([0x01], 21)],
    ["not a SEQUENCE at all", (der: Uint8Array) => der.set([0x31], 0)],
  ])("refuses %s", (_name, corrupt) => {
    const der = spki.slice();
    corrupt(der);
    expect(() => rawPublicKeyFromSpki(der)).toThrow(RangeError);
  });

  it.each([
    ["one byte short", (der: Uint8Array) => der.slice(0, -1)],
    ["one byte long", (der: Uint8Array) => Uint8Array.from([...der, 0])],
    ["the prefix alone", (der: Uint8Array) => der.slice(0, 22)],
    ["the raw key without prefix", (der: Uint8Array) => der.slice(22)],
    ["empty", () => new Uint8Array(0)],
  ])("refuses a wrong length: %s", (_name, cut) => {
    expect(() => rawPublicKeyFromSpki(cut(spki))).toThrow(RangeError);
  });

  it("refuses Wycheproof's wrong-length ML-DSA-65 SPKIs", () => {
    const wrongLength = vectors.testGroups.filter((g) => g.publicKey.length !== ML_DSA_65.publicKeyBytes * 2);
    expect(wrongLength.length).toBeGreaterThan(0);
    for (const g of wrongLength) expect(() => rawPublicKeyFromSpki(hex(g.publicKeyDer))).toThrow(RangeError);
  });
});
