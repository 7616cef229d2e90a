import { describe, expect, it } from "vitest";
import { assertAcceptablePassword, PASSWORD_MAX_CHARACTERS, PASSWORD_MIN_CHARACTERS } from "../../src/account-security/password-policy";
import {
  CURRENT_PASSWORD_PARAMS,
  decoyPasswordHash,
  hashPassword,
  PBKDF2_MAX_ITERATIONS_PER_CALL,
  verifyPassword,
} from "../../src/crypto/password";
import { ApiError } from "../../src/errors";

/** Cheap parameters for tests that are about the format, not the cost. */
const FAST = { iterations: 1000, rounds: 2 };
const PHC = /^\$pbkdf2-sha256\$i=(\d+),r=(\d+)\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/;

function policyError(password: string, email = "someone@example.test"): ApiError | undefined {
  try {
    assertAcceptablePassword(password, email);
    return undefined;
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
}

describe("hashPassword / verifyPassword", () => {
  it("produces a PHC string with the current parameters, a 16-byte salt and a 32-byte hash", async () => {
    const phc = await hashPassword("correct horse battery staple");
    const [, iterations, rounds, salt, hash] = PHC.exec(phc) ?? [];
    expect(Number(iterations)).toBe(CURRENT_PASSWORD_PARAMS.iterations);
    expect(Number(rounds)).toBe(CURRENT_PASSWORD_PARAMS.rounds);
    expect(salt).toHaveLength(22);
    expect(hash).toHaveLength(43);
    expect(await verifyPassword("correct horse battery staple", phc)).toEqual({ valid: true, needsRehash: false });
  });

  it("meets OWASP's 600,000 PBKDF2-SHA256 iterations in total while staying under the per-call ceiling", () => {
    expect(CURRENT_PASSWORD_PARAMS.iterations * CURRENT_PASSWORD_PARAMS.rounds).toBeGreaterThanOrEqual(600_000);
    expect(CURRENT_PASSWORD_PARAMS.iterations).toBeLessThanOrEqual(PBKDF2_MAX_ITERATIONS_PER_CALL);
  });

  it("refuses a wrong password, a different case and a prefix", async () => {
    const phc = await hashPassword("Tangerine-Lighthouse", FAST);
    expect((await verifyPassword("Tangerine-Lighthouse", phc)).valid).toBe(true);
    expect((await verifyPassword("tangerine-lighthouse", phc)).valid).toBe(false);
    expect((await verifyPassword("Tangerine-Lighthous", phc)).valid).toBe(false);
    expect((await verifyPassword("", phc)).valid).toBe(false);
  });

  it("salts every hash: the same password never hashes the same twice", async () => {
    const a = await hashPassword("same password here", FAST);
    const b = await hashPassword("same password here", FAST);
    expect(a).not.toBe(b);
    expect(a.split("$")[3]).not.toBe(b.split("$")[3]);
  });

  it("hashes the whole password: 100 characters differing only at character 80 or 100 do not match", async () => {
    const password = "p4ss-".repeat(20);
    const phc = await hashPassword(password, FAST);
    expect((await verifyPassword(password, phc)).valid).toBe(true);
    for (const index of [79, 99]) {
      const changed = `${password.slice(0, index)}#${password.slice(index + 1)}`;
      expect(changed).toHaveLength(100);
      expect((await verifyPassword(changed, phc)).valid).toBe(false);
    }
  });

  it("normalises to NFKC, so equivalent spellings are one password", async () => {
    const phc = await hashPassword("\uFB01ne caf\u00E9", FAST);
    expect((await verifyPassword("fine cafe\u0301", phc)).valid).toBe(true);
    expect((await verifyPassword("fine cafe", phc)).valid).toBe(false);
  });

  // UTF-8 encoding would turn every unpaired surrogate into U+FFFD, so passwords differing only in
  // unpaired surrogates would share one hash: ill-formed text is refused rather than hashed.
  it("refuses to hash ill-formed text, and such a candidate never verifies", async () => {
    await expect(hashPassword("\uD800\uD801-quiet-harbour", FAST)).rejects.toThrow(RangeError);
    const phc = await hashPassword("\uFFFD\uFFFD-quiet-harbour", FAST);
    expect((await verifyPassword("\uFFFD\uFFFD-quiet-harbour", phc)).valid).toBe(true);
    expect((await verifyPassword("\uDC00\uDBFF-quiet-harbour", phc)).valid).toBe(false);
  });

  it("flags hashes made with other parameters for a rehash, and still verifies them", async () => {
    const old = await hashPassword("legacy password", { iterations: 1000, rounds: 1 });
    expect(old.startsWith("$pbkdf2-sha256$i=1000,r=1$")).toBe(true);
    expect(await verifyPassword("legacy password", old)).toEqual({ valid: true, needsRehash: true });
    expect((await verifyPassword("not it", old)).valid).toBe(false);
    const fewerRounds = await hashPassword("legacy password", { iterations: CURRENT_PASSWORD_PARAMS.iterations, rounds: 1 });
    expect((await verifyPassword("legacy password", fewerRounds)).needsRehash).toBe(true);
  });

  it("chains the rounds: the same salt with one round fewer gives another hash", async () => {
    const twoRounds = await hashPassword("chained", { iterations: 1000, rounds: 2 });
    const downgraded = twoRounds.replace("i=1000,r=2", "i=1000,r=1");
    expect((await verifyPassword("chained", downgraded)).valid).toBe(false);
    const cheaper = twoRounds.replace("i=1000,r=2", "i=999,r=2");
    expect((await verifyPassword("chained", cheaper)).valid).toBe(false);
  });

  it("refuses a hash with one changed byte", async () => {
    const phc = await hashPassword("tamper me", FAST);
    const hash = phc.split("$")[4]!;
    const tampered = phc.replace(hash, `${hash[0] === "A" ? "B" : "A"}${hash.slice(1)}`);
    expect((await verifyPassword("tamper me", tampered)).valid).toBe(false);
  });

  it("refuses to derive with more iterations per call than production Workers allow", async () => {
    await expect(hashPassword("x", { iterations: PBKDF2_MAX_ITERATIONS_PER_CALL + 1, rounds: 1 })).rejects.toThrow(RangeError);
  });

  it.each([
    ["an empty string", ""],
    ["plain text", "correct horse"],
    ["another algorithm", "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"],
    ["zero iterations", "$pbkdf2-sha256$i=0,r=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"],
    ["iterations over the per-call ceiling", `$pbkdf2-sha256$i=${PBKDF2_MAX_ITERATIONS_PER_CALL + 1},r=1$AAAAAAAAAAAAAAAAAAAAAA$AAAA`],
    ["zero rounds", "$pbkdf2-sha256$i=1000,r=0$AAAAAAAAAAAAAAAAAAAAAA$AAAA"],
    ["65 rounds", "$pbkdf2-sha256$i=1000,r=65$AAAAAAAAAAAAAAAAAAAAAA$AAAA"],
    ["a missing hash", "$pbkdf2-sha256$i=1000,r=1$AAAAAAAAAAAAAAAAAAAAAA"],
    ["standard base64 in the salt", "$pbkdf2-sha256$i=1000,r=1$AAAA+/AAAAAAAAAAAAAAAA$AAAA"],
  ])("treats %s as a hash nothing matches", async (_, phc) => {
    expect(await verifyPassword("anything", phc)).toEqual({ valid: false, needsRehash: false });
  });

  // Regression: a stored salt or hash whose base64url length is 1 mod 4 once made atob throw, so a
  // corrupted row meant a 500 at login instead of { valid: false }.
  it("treats a salt or hash of impossible base64url length as a hash nothing matches, without throwing", async () => {
    for (const phc of ["$pbkdf2-sha256$i=1000,r=1$A$AAAA", "$pbkdf2-sha256$i=1000,r=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAA"]) {
      await expect(verifyPassword("anything", phc)).resolves.toEqual({ valid: false, needsRehash: false });
    }
  });

  it("the decoy hash has the current parameters and matches no guess", async () => {
    const decoy = await decoyPasswordHash();
    expect(decoy).toBe(await decoyPasswordHash());
    expect(decoy.startsWith(`$pbkdf2-sha256$i=${CURRENT_PASSWORD_PARAMS.iterations},r=${CURRENT_PASSWORD_PARAMS.rounds}$`)).toBe(true);
    expect(await verifyPassword("password", decoy)).toEqual({ valid: false, needsRehash: false });
  });
});

describe("assertAcceptablePassword", () => {
  it(`requires ${PASSWORD_MIN_CHARACTERS} characters and allows up to ${PASSWORD_MAX_CHARACTERS}`, () => {
    expect(PASSWORD_MIN_CHARACTERS).toBe(8);
    expect(PASSWORD_MAX_CHARACTERS).toBeGreaterThanOrEqual(64);
    expect(policyError("kq7#vz2")?.code).toBe("weak_password");
    expect(policyError("kq7#vz2m")).toBeUndefined();
    expect(policyError("vq3x9kzt".repeat(8))).toBeUndefined();
    expect(policyError(`${"vq3x9kzt".repeat(12)}abcd`)).toBeUndefined();
    expect(policyError("z".repeat(PASSWORD_MAX_CHARACTERS))).toBeUndefined();
    expect(policyError("z".repeat(PASSWORD_MAX_CHARACTERS + 1))?.code).toBe("weak_password");
  });

  it("refuses with a 400 weak_password ApiError", () => {
    const error = policyError("short");
    expect(error).toBeInstanceOf(ApiError);
    expect(error?.status).toBe(400);
  });

  it("counts Unicode code points after NFKC, not UTF-16 units or bytes", () => {
    expect(policyError("🦊🌵🛰🎻🧭🪐🦉")?.code).toBe("weak_password");
    expect(policyError("🦊🌵🛰🎻🧭🪐🦉🍋")).toBeUndefined();
    // e + combining acute composes to one character: seven of them are too short.
    expect(policyError("e\u0301".repeat(7))?.code).toBe("weak_password");
    expect(policyError("e\u0301".repeat(8))).toBeUndefined();
  });

  it("has no composition rules: a long all-lower-case passphrase is fine", () => {
    expect(policyError("purple elephants juggle quietly")).toBeUndefined();
  });

  it.each(["password", "12345678", "qwertyuiop", "iloveyou", "PASSWORD1", "Sunshine", "ｐａｓｓｗｏｒｄ"])(
    "refuses the common password %s (case and width folded)",
    (password) => {
      expect(policyError(password)?.message).toMatch(/common/i);
    },
  );

  it("refuses passwords containing the email's local part or the service name", () => {
    expect(policyError("my-marguerite-2024", "Marguerite@example.test")?.code).toBe("weak_password");
    expect(policyError("xxHEADYxx-2024")?.code).toBe("weak_password");
    expect(policyError("headykey-rocks")?.code).toBe("weak_password");
    expect(policyError("my-marguerite-2024", "someone-else@example.test")).toBeUndefined();
  });

  it("ignores local parts under four characters, which would refuse too much", () => {
    expect(policyError("bob-builds-bridges", "bob@example.test")).toBeUndefined();
  });
});
