import { describe, expect, it } from "vitest";
import { fromBase64Url, toBase64Url, utf8ByteLength } from "../../src/crypto/encoding";

describe("strict base64url", () => {
  it("round-trips every length and accepts exactly one spelling per byte string", () => {
    for (let length = 0; length < 40; length++) {
      const bytes = crypto.getRandomValues(new Uint8Array(length));
      const text = toBase64Url(bytes);
      expect(fromBase64Url(text)).toEqual(bytes);
      if (text.length % 4 === 0) continue;
      // Every other last character that decodes to the same bytes sets unused bits: refused.
      const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
      const spellings = [...alphabet].filter((last) => {
        try {
          fromBase64Url(text.slice(0, -1) + last);
          return toBase64Url(fromBase64Url(text.slice(0, -1) + last)) === text;
        } catch {
          return false;
        }
      });
      expect(spellings).toEqual([text[text.length - 1]]);
    }
  });

  it("refuses padding, the standard alphabet and impossible lengths", () => {
    for (const text of ["AA==", "A+/A", "A", "AAAAA", "AB"]) expect(() => fromBase64Url(text), text).toThrow(TypeError);
  });
});

describe("utf8ByteLength", () => {
  it.each([
    ["empty", ""],
    ["ASCII", "pulse"],
    ["2-byte", "é"],
    ["3-byte", "€"],
    ["a surrogate pair", "😀"],
    ["a lone high surrogate", "a\ud83d"],
    ["a lone low surrogate", "\ude00b"],
    ["two high surrogates then a low one", "\ud83d\ud83d\ude00"],
    ["a mix", "é€😀x\u0000\u07ff\u0800\uffff"],
  ])("equals TextEncoder's byte count for %s", (_, text) => {
    expect(utf8ByteLength(text)).toBe(new TextEncoder().encode(text).length);
  });
});
