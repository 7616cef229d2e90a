import { describe, expect, it } from "vitest";
import {
  ackFrame,
  closeReason,
  errorFrame,
  FrameError,
  MAX_CLOSE_REASON_BYTES,
  MAX_FRAME_BYTES,
  parseClientFrame,
  pulseFrame,
} from "../../src/mesh/frames";

describe("parseClientFrame", () => {
  it("reads the four client frame types, with an optional id", () => {
    expect(parseClientFrame('{"type":"pulse","data":{"a":1},"id":"x"}')).toEqual({ type: "pulse", data: { a: 1 }, id: "x" });
    expect(parseClientFrame('{"type":"pulse"}')).toEqual({ type: "pulse", data: null });
    expect(parseClientFrame('{"type":"subscribe","id":3}')).toEqual({ type: "subscribe", id: 3 });
    expect(parseClientFrame('{"type":"unsubscribe"}')).toEqual({ type: "unsubscribe" });
    expect(parseClientFrame('{"type":"refresh","token":"a.b.c"}')).toEqual({ type: "refresh", token: "a.b.c" });
  });

  it("drops members it does not know (a pulse cannot smuggle its own `from` or `topic`)", () => {
    expect(parseClientFrame('{"type":"pulse","data":1,"from":"governor","topic":"x"}')).toEqual({ type: "pulse", data: 1 });
  });

  it.each([
    ["binary", new ArrayBuffer(2)],
    ["not JSON", "{"],
    ["a string", '"pulse"'],
    ["null", "null"],
    ["an array", "[]"],
    ["no type", "{}"],
    ["an unknown type", '{"type":"PULSE"}'],
    ["a server-only type", '{"type":"error"}'],
    ["a refresh with an empty token", '{"type":"refresh","token":""}'],
    ["a refresh with a numeric token", '{"type":"refresh","token":1}'],
    ["a long id", JSON.stringify({ type: "pulse", id: "i".repeat(65) })],
    ["an infinite-looking id", '{"type":"pulse","id":1e999}'],
    ["an oversized frame", JSON.stringify({ type: "pulse", data: "x".repeat(MAX_FRAME_BYTES) })],
  ])("refuses %s with a FrameError", (_, message) => {
    expect(() => parseClientFrame(message as string)).toThrow(FrameError);
  });
});

describe("parseClientFrame: the size limit is in UTF-8 bytes", () => {
  const bytes = (text: string) => new TextEncoder().encode(text).length;
  /** A pulse frame of exactly `size` bytes of UTF-8, its data made of `char` (1 to 4 bytes each) and ASCII padding. */
  function frameOfBytes(size: number, char: string): string {
    const shell = bytes(JSON.stringify({ type: "pulse", data: "" }));
    const wide = Math.floor((size - shell) / bytes(char));
    const frame = JSON.stringify({ type: "pulse", data: char.repeat(wide) + "x".repeat(size - shell - wide * bytes(char)) });
    expect(bytes(frame)).toBe(size);
    return frame;
  }

  it.each([
    ["2-byte", "é"],
    ["3-byte", "€"],
    ["4-byte (a surrogate pair)", "😀"],
  ])("accepts a frame of exactly %s characters at the limit, refuses one byte more", (_, char) => {
    expect(parseClientFrame(frameOfBytes(MAX_FRAME_BYTES, char)).type).toBe("pulse");
    expect(() => parseClientFrame(frameOfBytes(MAX_FRAME_BYTES + 1, char))).toThrow(`A frame may be at most ${MAX_FRAME_BYTES} bytes.`);
  });

  it("refuses a frame of 180,000 bytes that is fewer than 64 Ki UTF-16 units", () => {
    const frame = JSON.stringify({ type: "pulse", data: "€".repeat(60_000) });
    expect(frame.length).toBeLessThan(MAX_FRAME_BYTES);
    expect(bytes(frame)).toBeGreaterThan(180_000);
    expect(() => parseClientFrame(frame)).toThrow(FrameError);
  });

  it("measures binary frames by their byteLength", () => {
    expect(() => parseClientFrame(new ArrayBuffer(MAX_FRAME_BYTES + 1))).toThrow(`A frame may be at most ${MAX_FRAME_BYTES} bytes.`);
    expect(() => parseClientFrame(new ArrayBuffer(8))).toThrow("Frames are JSON text, not binary.");
  });
});

describe("server frames", () => {
  it("builds pulse, ack and error frames", () => {
    expect(JSON.parse(pulseFrame("t", "n", { x: 1 }, 5, false))).toEqual({ type: "pulse", topic: "t", from: "n", data: { x: 1 }, ts: 5 });
    expect(JSON.parse(pulseFrame("t", "stub:n", null, 5, true))).toEqual({
      type: "pulse",
      topic: "t",
      from: "stub:n",
      data: null,
      ts: 5,
      stub: true,
    });
    expect(JSON.parse(ackFrame("refresh", { exp: 9 }, "r"))).toEqual({ type: "ack", of: "refresh", exp: 9, id: "r" });
    expect(JSON.parse(errorFrame("bad_frame", "no"))).toEqual({ type: "error", code: "bad_frame", message: "no" });
  });
});

describe("closeReason", () => {
  const bytes = (text: string) => new TextEncoder().encode(text).length;

  it("keeps short reasons as they are", () => {
    expect(closeReason("token revoked")).toBe("token revoked");
  });

  it("cuts long reasons to at most 123 bytes of UTF-8, never inside a character", () => {
    const ascii = closeReason("x".repeat(300));
    expect(bytes(ascii)).toBeLessThanOrEqual(MAX_CLOSE_REASON_BYTES);
    expect(ascii.endsWith("…")).toBe(true);
    const wide = closeReason("é".repeat(100));
    expect(bytes(wide)).toBeLessThanOrEqual(MAX_CLOSE_REASON_BYTES);
    expect(wide).toMatch(/^é+…$/);
  });
});
