import { ml_dsa65 } from "@noble/post-quantum/ml-dsa.js";
import { describe, expect, it } from "vitest";
import { ML_DSA_65, type MlDsa65, mlDsa65, nobleMlDsa65, webCryptoMlDsa65 } from "../../src/crypto/ml-dsa";
import vectors from "../vectors/wycheproof/mldsa_65_verify_test.json";

/**
 * Both ML-DSA-65 implementations of src/crypto/ml-dsa.ts (native WebCrypto in workerd, and
 * @noble/post-quantum) against Wycheproof's ML-DSA-65 verification vectors, and against each other.
 *
 * Our verifier is pure ML-DSA with the empty context (RFC 9964). A Wycheproof case with a non-empty
 * `ctx` signs a different message (M' = 0 || len(ctx) || ctx || M), so for us it must NOT verify,
 * whatever its `result`; we check that, and that noble's context-aware verify agrees with the
 * vector's own result, so the refusal is about the context and not a broken case.
 */

interface WycheproofCase {
  tcId: number;
  comment: string;
  msg: string;
  ctx?: string;
  sig: string;
  result: "valid" | "invalid" | "acceptable";
  flags: string[];
}

interface WycheproofGroup {
  type: string;
  publicKey: string;
  publicKeyDer: string;
  tests: WycheproofCase[];
}

const hex = (text: string): Uint8Array<ArrayBuffer> => Uint8Array.from(text.match(/../g) ?? [], (pair) => parseInt(pair, 16));

const cases = (vectors.testGroups as WycheproofGroup[]).flatMap((group) =>
  group.tests.map((test) => ({ ...test, publicKey: group.publicKey, hasContext: (test.ctx ?? "") !== "" })),
);
const withContext = cases.filter((test) => test.hasContext);
const label = (test: (typeof cases)[number]) =>
  `tcId ${test.tcId} ${test.result}${test.hasContext ? " with ctx" : ""} [${test.flags.join(",")}] ${test.comment}`;

const implementations: [string, MlDsa65][] = [
  ["webcrypto", webCryptoMlDsa65],
  ["noble", nobleMlDsa65],
];

/** Whether `impl` accepts the case: a wrong-length public key is refused when the verifier is built. */
async function accepts(impl: MlDsa65, test: (typeof cases)[number]): Promise<boolean> {
  const publicKey = hex(test.publicKey);
  if (publicKey.length !== ML_DSA_65.publicKeyBytes) {
    await expect(impl.verifier(publicKey)).rejects.toThrow(RangeError);
    return false;
  }
  const verify = await impl.verifier(publicKey);
  return verify(hex(test.msg), hex(test.sig));
}

describe("the Wycheproof ML-DSA-65 verification vectors", () => {
  it("are all there and all say valid or invalid", () => {
    expect(vectors.algorithm).toBe("ML-DSA-65");
    expect(cases).toHaveLength(vectors.numberOfTests);
    expect(cases.filter((test) => test.result !== "valid" && test.result !== "invalid")).toEqual([]);
    // The context cases: counted here so that a new vector file cannot silently change what we skip.
    expect(withContext.length).toBeGreaterThan(0);
    expect(withContext.filter((test) => test.result === "valid").length).toBeGreaterThan(0);
  });

  it("context cases are what the vector says under their own context (noble's context-aware verify)", () => {
    for (const test of withContext) {
      const publicKey = hex(test.publicKey);
      let valid: boolean;
      try {
        valid = ml_dsa65.verify(hex(test.sig), hex(test.msg), publicKey, { context: hex(test.ctx!) });
      } catch {
        valid = false; // a context over 255 bytes is refused outright
      }
      expect.soft(valid, label(test)).toBe(test.result === "valid");
    }
  });
});

describe.each(implementations)("%s ML-DSA-65 verify against Wycheproof", (_name, impl) => {
  it.each(cases.filter((test) => !test.hasContext).map((test) => [label(test), test] as const))("%s", async (_label, test) => {
    expect(await accepts(impl, test)).toBe(test.result === "valid");
  });

  it.each(withContext.map((test) => [label(test), test] as const))("%s: not accepted with our empty context", async (_label, test) => {
    expect(await accepts(impl, test)).toBe(false);
  });
});

describe("native WebCrypto and noble interoperate", () => {
  const seed = crypto.getRandomValues(new Uint8Array(32));
  const message = new TextEncoder().encode("eyJhbGciOiJNTC1EU0EtNjUifQ.eyJzdWIiOiJpbnRlcm9wIn0") as Uint8Array<ArrayBuffer>;

  it("mlDsa65() picks native WebCrypto in workerd (compatibility flag webcrypto_modern_algorithms)", async () => {
    const impl = await mlDsa65();
    expect(impl).toBe(webCryptoMlDsa65);
    expect(impl.implementation).toBe("webcrypto");
    expect(await mlDsa65()).toBe(impl); // chosen once per isolate
  });

  it("the same seed gives the same public key in both", async () => {
    const native = await webCryptoMlDsa65.signerFromSeed(seed);
    const noble = await nobleMlDsa65.signerFromSeed(seed);
    expect(native.publicKey).toHaveLength(ML_DSA_65.publicKeyBytes);
    expect(native.publicKey).toEqual(noble.publicKey);
  });

  it.each([
    ["webcrypto", "noble", webCryptoMlDsa65, nobleMlDsa65],
    ["noble", "webcrypto", nobleMlDsa65, webCryptoMlDsa65],
    ["webcrypto", "webcrypto", webCryptoMlDsa65, webCryptoMlDsa65],
  ] as const)("%s signs, %s verifies; a flipped bit or another message does not verify", async (_s, _v, signer, verifier) => {
    const key = await signer.signerFromSeed(seed);
    const signature = (await key.sign(message)) as Uint8Array<ArrayBuffer>;
    expect(signature).toHaveLength(ML_DSA_65.signatureBytes);
    const verify = await verifier.verifier(key.publicKey);
    expect(await verify(message, signature)).toBe(true);

    const flipped = signature.slice();
    flipped[100] = flipped[100]! ^ 0x01;
    expect(await verify(message, flipped)).toBe(false);
    const other = message.slice();
    other[0] = other[0]! ^ 0x01;
    expect(await verify(other, signature)).toBe(false);
    // A signature of the wrong length is a false, not an exception.
    expect(await verify(message, signature.slice(0, -1))).toBe(false);
    expect(await verify(message, new Uint8Array(0))).toBe(false);
  });

  it("a signature by another key does not verify", async () => {
    const mine = await webCryptoMlDsa65.signerFromSeed(seed);
    const theirs = await nobleMlDsa65.signerFromSeed(crypto.getRandomValues(new Uint8Array(32)));
    const signature = (await theirs.sign(message)) as Uint8Array<ArrayBuffer>;
    for (const impl of [webCryptoMlDsa65, nobleMlDsa65]) {
      expect(await (await impl.verifier(mine.publicKey))(message, signature)).toBe(false);
    }
  });

  it.each(implementations)("%s refuses a wrong-length public key or seed", async (_name, impl) => {
    await expect(impl.verifier(new Uint8Array(ML_DSA_65.publicKeyBytes - 1))).rejects.toThrow(RangeError);
    await expect(impl.verifier(new Uint8Array(ML_DSA_65.publicKeyBytes + 1))).rejects.toThrow(RangeError);
    await expect(impl.signerFromSeed(new Uint8Array(31))).rejects.toThrow(RangeError);
    await expect(impl.signerFromSeed(new Uint8Array(33))).rejects.toThrow(RangeError);
  });
});
