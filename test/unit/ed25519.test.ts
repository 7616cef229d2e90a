import { describe, expect, it } from "vitest";
import { ed25519VerificationKey } from "../../src/crypto/ed25519";
import { toBase64Url } from "../../src/crypto/encoding";
import vectors from "../vectors/wycheproof/ed25519_test.json";

/**
 * The Ed25519 verifier behind trust receipts, gateway assertions and the origin helper
 * (src/crypto/ed25519.ts) against Wycheproof's Ed25519 vectors: every valid case verifies and every
 * invalid one (non-canonical S, truncated or padded signatures, altered R, small-order points…) fails.
 */

interface WycheproofCase {
  tcId: number;
  comment: string;
  msg: string;
  sig: string;
  result: "valid" | "invalid" | "acceptable";
}

interface WycheproofGroup {
  publicKey: { pk: string };
  tests: WycheproofCase[];
}

const groups = (vectors as unknown as { testGroups: WycheproofGroup[] }).testGroups;
const hex = (text: string) => Uint8Array.from(text.match(/../g) ?? [], (byte) => Number.parseInt(byte, 16));

/** What our verifier says of one case; a key WebCrypto refuses to import is a refusal too. */
async function verdict(group: WycheproofGroup, test: WycheproofCase): Promise<boolean> {
  let key;
  try {
    key = await ed25519VerificationKey("wycheproof", toBase64Url(hex(group.publicKey.pk)));
  } catch {
    return false;
  }
  return key.verify(hex(test.msg), hex(test.sig));
}

describe("Wycheproof ed25519_test.json", () => {
  const cases = groups.flatMap((group) => group.tests.map((test) => ({ group, test })));

  it("the vector file is the one test/vectors/README.md describes", () => {
    expect(cases.filter(({ test }) => test.result === "valid").length).toBe(88);
    expect(cases.filter(({ test }) => test.result === "invalid").length).toBe(63);
  });

  it("every valid vector verifies", async () => {
    const failures: string[] = [];
    for (const { group, test } of cases.filter(({ test }) => test.result === "valid")) {
      if (!(await verdict(group, test))) failures.push(`tcId ${test.tcId} (${test.comment})`);
    }
    expect(failures).toEqual([]);
  });

  it("every invalid vector is refused", async () => {
    const accepted: string[] = [];
    for (const { group, test } of cases.filter(({ test }) => test.result === "invalid")) {
      if (await verdict(group, test)) accepted.push(`tcId ${test.tcId} (${test.comment})`);
    }
    expect(accepted).toEqual([]);
  });
});
