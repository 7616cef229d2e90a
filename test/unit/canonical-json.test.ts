import { describe, expect, it } from "vitest";
import { canonicalJson } from "../../src/audit/canonical-json";
import { type ChainedEvent, eventHash, GENESIS_HASH, type LedgerEvent, verifyChainRun } from "../../src/audit/chain";

describe("RFC 8785 canonical JSON", () => {
  it("sorts keys by UTF-16 code units at every depth and drops whitespace", () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: null, y: true }], c: "x" } })).toBe('{"a":{"c":"x","d":[3,{"y":true,"z":null}]},"b":1}');
    // RFC 8785 §3.2.3: "\u20ac" (U+20AC) sorts after "\r" and before "\ud83d\ude00" by code unit.
    expect(canonicalJson({ "\u20ac": 1, "\r": 2, "\ud83d\ude00": 3, "1": 4 })).toBe('{"\\r":2,"1":4,"€":1,"😀":3}');
  });

  it("serialises numbers as ECMAScript does and refuses what JSON cannot hold", () => {
    expect(canonicalJson([1e21, 0.1, -0, 1.5e-7])).toBe("[1e+21,0.1,0,1.5e-7]");
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(TypeError);
    expect(() => canonicalJson([undefined])).toThrow(TypeError);
    expect(canonicalJson({ dropped: undefined, kept: 1 })).toBe('{"kept":1}');
  });
});

describe("canonical JSON of values that are not plain JSON", () => {
  it("uses toJSON as JSON.stringify does, so a Date hashes as the string the stored row holds", () => {
    const at = new Date(1_700_000_000_000);
    const value = { at, nested: [{ at }], custom: { toJSON: (key: string) => `custom:${key}` } };
    expect(canonicalJson(value)).toBe(
      '{"at":"2023-11-14T22:13:20.000Z","custom":"custom:custom","nested":[{"at":"2023-11-14T22:13:20.000Z"}]}',
    );
    expect(canonicalJson(value)).toBe(canonicalJson(JSON.parse(JSON.stringify(value))));
  });

  it("keeps an event with a Date in its details verifiable after the JSON round trip of storage", () => {
    const event: LedgerEvent = {
      id: "00000000-0000-4000-8000-000000000001",
      seq: 1,
      type: "user.disabled",
      subject: "user-1",
      actor: null,
      requestId: "req",
      ip: null,
      userAgent: null,
      details: { disabledAt: new Date(1_700_000_000_000) },
      createdAt: 1_700_000_000_000,
    };
    const hash = eventHash(event, GENESIS_HASH);
    const stored = JSON.parse(JSON.stringify(event)) as LedgerEvent;
    expect(verifyChainRun([{ ...stored, prevHash: GENESIS_HASH, hash }], 1, GENESIS_HASH)).toEqual({ nextSeq: 2, lastHash: hash });
  });

  it.each([
    ["a Map", new Map([["a", 1]])],
    ["a Set", new Set([1])],
    [
      "a class instance",
      new (class Point {
        x = 1;
      })(),
    ],
    ["a typed array", new Uint8Array([1])],
    ["a bigint", 1n],
    ["a function", () => 1],
  ])("refuses %s instead of hashing it as {}", (_, member) => {
    expect(() => canonicalJson({ member })).toThrow(TypeError);
  });

  it("accepts objects without a prototype", () => {
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { b: 2, a: 1 });
    expect(canonicalJson(bare)).toBe('{"a":1,"b":2}');
  });
});

describe("hash chain", () => {
  const event = (seq: number): LedgerEvent => ({
    id: `00000000-0000-4000-8000-${String(seq).padStart(12, "0")}`,
    seq,
    type: "login.succeeded",
    subject: "user-1",
    actor: null,
    requestId: "req",
    ip: "10.0.0.1",
    userAgent: null,
    details: { n: seq },
    createdAt: 1_700_000_000_000 + seq,
  });
  const chainOf = (length: number): ChainedEvent[] => {
    const events: ChainedEvent[] = [];
    let prev = GENESIS_HASH;
    for (let seq = 1; seq <= length; seq++) {
      const hash = eventHash(event(seq), prev);
      events.push({ ...event(seq), prevHash: prev, hash });
      prev = hash;
    }
    return events;
  };

  it("binds every field and the previous hash", () => {
    const base = eventHash(event(1), GENESIS_HASH);
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    expect(eventHash({ ...event(1), details: { n: 2 } }, GENESIS_HASH)).not.toBe(base);
    expect(eventHash({ ...event(1), ip: "10.0.0.2" }, GENESIS_HASH)).not.toBe(base);
    expect(eventHash(event(1), "f".repeat(64))).not.toBe(base);
  });

  it("verifies an intact chain and reports the first break of each kind", () => {
    const events = chainOf(5);
    expect(verifyChainRun(events, 1, GENESIS_HASH)).toEqual({ nextSeq: 6, lastHash: events[4]!.hash });

    const edited = events.map((e) => (e.seq === 3 ? { ...e, details: { n: 99 } } : e));
    expect(verifyChainRun(edited, 1, GENESIS_HASH)).toMatchObject({ break: { seq: 3, reason: "hash_mismatch" } });

    const missing = events.filter((e) => e.seq !== 2);
    expect(verifyChainRun(missing, 1, GENESIS_HASH)).toMatchObject({ break: { seq: 2, reason: "gap" } });

    const relinked = events.map((e) => (e.seq === 4 ? { ...e, prevHash: GENESIS_HASH } : e));
    expect(verifyChainRun(relinked, 1, GENESIS_HASH)).toMatchObject({ break: { seq: 4, reason: "prev_hash_mismatch" } });
  });
});
