import { beforeAll, describe, expect, it } from "vitest";
import { hs256Key } from "../../src/crypto/hmac";
import {
  type JwsAlgorithm,
  type SigningKey,
  signJwt,
  TokenError,
  type TokenKind,
  type VerificationKey,
  verifyJwt,
} from "../../src/crypto/jwt";
import { base64url } from "../support/encoding";
import { decodeHeader, flipSignatureByte, forgeJwt, hmacSigner, type Signer, unsigned } from "../support/tokens";
import vectors from "../vectors/wycheproof/json_web_signature_test.json";

const ISSUER = "https://id.heady.test";
const AUDIENCE = "unit-audience";
const TYP = "unit+jwt";
const SECRET = base64url(new TextEncoder().encode("unit-test-hs256-secret-of-32-bytes!!"));

let hmacKey: SigningKey & VerificationKey;
let kind: TokenKind;

const now = () => Math.floor(Date.now() / 1000);
const claims = (overrides: Record<string, unknown> = {}) => {
  const base: Record<string, unknown> = { iss: ISSUER, aud: AUDIENCE, sub: "user-1", iat: now(), exp: now() + 300, ...overrides };
  for (const [name, value] of Object.entries(overrides)) if (value === undefined) delete base[name];
  return base;
};
const header = (overrides: Record<string, unknown> = {}) => ({ alg: "HS256", typ: TYP, kid: hmacKey.kid, ...overrides });
const hmacSign: Signer = (input) => hmacKey.sign(input);

/** The reason verifyJwt gives for refusing `token`; fails the test when it accepts or throws anything but TokenError. */
async function refusal(token: string, tokenKind: TokenKind = kind): Promise<string> {
  let outcome: unknown;
  try {
    outcome = await verifyJwt(token, tokenKind);
  } catch (error) {
    if (error instanceof TokenError) return error.reason;
    throw new Error(`verifyJwt threw ${String(error)} instead of a TokenError`);
  }
  throw new Error(`verifyJwt accepted the token: ${JSON.stringify(outcome)}`);
}

type VerifyParams = Parameters<SubtleCrypto["verify"]>[0];
type ImportParams = Parameters<SubtleCrypto["importKey"]>[2];

/** A WebCrypto public key bound to one JOSE algorithm, as a key set would hold it. */
function webCryptoVerificationKey(kid: string, alg: string, key: CryptoKey, params: VerifyParams): VerificationKey {
  return {
    kid,
    alg: alg as JwsAlgorithm,
    verify: async (data, signature) => {
      try {
        return await crypto.subtle.verify(params, key, signature, data);
      } catch {
        return false;
      }
    },
  };
}

/** The kinds here take any short `kid`, so that the near-miss cases below reach the exact-match lookup. */
const ANY_KID = /^[\s\S]{1,256}$/;

beforeAll(async () => {
  hmacKey = await hs256Key("unit-hs256", SECRET);
  kind = { typ: TYP, issuer: ISSUER, audience: AUDIENCE, kidPattern: ANY_KID, key: (kid) => (kid === hmacKey.kid ? hmacKey : undefined) };
});

describe("signJwt and verifyJwt", () => {
  it("round-trips claims with exactly alg, typ and kid in the header", async () => {
    const token = await signJwt(claims({ role: "user" }), hmacKey, TYP);
    expect(decodeHeader(token)).toEqual({
      alg: "HS256",
      typ: TYP,
      kid: hmacKey.kid,
    });
    expect(await verifyJwt(token, kind)).toMatchObject({ iss: ISSUER, aud: AUDIENCE, sub: "user-1", role: "user" });
  });

  it("accepts an audience list that contains ours and an async key lookup", async () => {
    const token = await signJwt(claims({ aud: ["other", AUDIENCE] }), hmacKey, TYP);
    expect((await verifyJwt(token, { ...kind, key: async (kid) => kind.key(kid) })).sub).toBe("user-1");
  });

  it("tolerates iat and nbf up to 30 s in the future (clock skew), never a stretched exp", async () => {
    expect((await verifyJwt(await signJwt(claims({ iat: now() + 20, nbf: now() + 20 }), hmacKey, TYP), kind)).sub).toBe("user-1");
    expect(await refusal(await signJwt(claims({ iat: now() + 120 }), hmacKey, TYP))).toBe("iat_in_future");
    expect(await refusal(await signJwt(claims({ nbf: now() + 120 }), hmacKey, TYP))).toBe("not_yet_valid");
    expect(await refusal(await signJwt(claims({ exp: now() }), hmacKey, TYP))).toBe("expired");
  });
});

describe("verifyJwt refuses", () => {
  it("alg none, in any spelling, signed or not", async () => {
    for (const alg of ["none", "None", "NONE"]) {
      expect(await refusal(await forgeJwt(header({ alg }), claims(), unsigned))).toBe("malformed");
      expect(await refusal(await forgeJwt(header({ alg }), claims(), hmacSign))).toBe("wrong_alg");
    }
  });

  it("a signature with one flipped bit, and a signature from another secret", async () => {
    const token = await forgeJwt(header(), claims(), hmacSign);
    expect((await verifyJwt(token, kind)).sub).toBe("user-1");
    expect(await refusal(flipSignatureByte(token))).toBe("bad_signature");
    expect(await refusal(flipSignatureByte(token, 31))).toBe("bad_signature");
    expect(await refusal(await forgeJwt(header(), claims(), hmacSigner("another-secret-entirely-32-bytes!")))).toBe("bad_signature");
  });

  it("a signature that is truncated or extended", async () => {
    const token = await forgeJwt(header(), claims(), hmacSign);
    const [h, p, s = ""] = token.split(".");
    expect(await refusal(`${h}.${p}.${s.slice(0, 40)}`)).toBe("bad_signature");
    expect(await refusal(`${h}.${p}.${s}AAAA`)).toBe("bad_signature");
  });

  // Regression: a signature segment of length 1 mod 4 once made atob throw outside the TokenError
  // path, which the access-token reader turned into a 500.
  it("a signature segment whose length no base64url encoding can have (1 mod 4), as a TokenError", async () => {
    const [h, p] = (await forgeJwt(header(), claims(), hmacSign)).split(".");
    for (const signature of ["A", "AAAAA", `${"A".repeat(42)}B`]) {
      expect(await refusal(`${h}.${p}.${signature}`)).toBe("malformed_signature_encoding");
    }
  });

  it.each([
    ["the wrong typ", { typ: "JWT" }, "wrong_typ"],
    ["another kind's typ", { typ: "at+jwt" }, "wrong_typ"],
    ["typ in another case", { typ: TYP.toUpperCase() }, "wrong_typ"],
    ["no typ", { typ: undefined }, "wrong_typ"],
    ["an unknown kid", { kid: "unit-hs257" }, "unknown_kid"],
    ["a near-miss kid (case)", { kid: "UNIT-hs256" }, "unknown_kid"],
    ["a near-miss kid (trailing space)", { kid: "unit-hs256 " }, "unknown_kid"],
    ["a near-miss kid (prefix)", { kid: "unit-hs25" }, "unknown_kid"],
    ["no kid", { kid: undefined }, "missing_kid"],
    ["a numeric kid", { kid: 7 }, "missing_kid"],
    ["alg HS512 on an HS256 key", { alg: "HS512" }, "wrong_alg"],
    ["alg RS256 on an HS256 key", { alg: "RS256" }, "wrong_alg"],
    ["jku", { jku: "https://evil.test/jwks" }, "forbidden_header_jku"],
    ["x5u", { x5u: "https://evil.test/cert" }, "forbidden_header_x5u"],
    ["an embedded jwk", { jwk: { kty: "oct", k: "AAAA" } }, "forbidden_header_jwk"],
    ["x5c", { x5c: ["MIIB"] }, "forbidden_header_x5c"],
    ["crit", { crit: ["b64"], b64: false }, "forbidden_header_crit"],
    ["cty", { cty: "JWT" }, "forbidden_header_cty"],
  ])("a header with %s", async (_, overrides, reason) => {
    const forged = header(overrides);
    for (const [name, value] of Object.entries(overrides)) if (value === undefined) delete forged[name as keyof typeof forged];
    expect(await refusal(await forgeJwt(forged, claims(), hmacSign))).toBe(reason);
  });

  it.each([
    ["the wrong audience", { aud: "other" }, "wrong_aud"],
    ["an audience list without ours", { aud: ["a", "b"] }, "wrong_aud"],
    ["the wrong issuer", { iss: "https://evil.test" }, "wrong_iss"],
    ["an issuer with a trailing slash", { iss: `${ISSUER}/` }, "wrong_iss"],
    ["an expired exp", { exp: now() - 1 }, "expired"],
    ["a string exp", { exp: String(now() + 300) }, "bad_exp"],
    // biome-ignore lint/correctness/noPrecisionLoss: the point is a literal that overflows to Infinity.
    ["an infinite exp", { exp: 1e400 }, "bad_exp"],
    ["no iss", { iss: undefined }, "missing_iss"],
    ["no aud", { aud: undefined }, "missing_aud"],
    ["no exp", { exp: undefined }, "missing_exp"],
    ["no iat", { iat: undefined }, "missing_iat"],
  ])("a correctly signed token with %s", async (_, overrides, reason) => {
    expect(await refusal(await forgeJwt(header(), claims(overrides), hmacSign))).toBe(reason);
  });

  it("a missing claim the kind requires, and a lifetime above the kind's maximum", async () => {
    const strict: TokenKind = { ...kind, requiredClaims: ["sid"], maxLifetimeSeconds: 600 };
    expect(await refusal(await signJwt(claims(), hmacKey, TYP), strict)).toBe("missing_sid");
    expect(await refusal(await signJwt(claims({ sid: "s", exp: now() + 601 }), hmacKey, TYP), strict)).toBe("lifetime_too_long");
    expect((await verifyJwt(await signJwt(claims({ sid: "s", exp: now() + 600 }), hmacKey, TYP), strict)).sid).toBe("s");
  });

  it("a kid outside the kind's format is refused before the key is looked up", async () => {
    const lookups: string[] = [];
    const strict: TokenKind = {
      ...kind,
      kidPattern: /^unit-hs256$/,
      key: (kid) => {
        lookups.push(kid);
        return kind.key(kid);
      },
    };
    for (const kid of ["k".repeat(600), "unit-hs256\n", "", "UNIT-hs256"]) {
      expect(await refusal(await forgeJwt(header({ kid }), claims(), hmacSign), strict)).toBe("malformed_kid");
    }
    expect(lookups).toEqual([]);
    expect((await verifyJwt(await signJwt(claims(), hmacKey, TYP), strict)).sub).toBe("user-1");
    expect(lookups).toEqual([hmacKey.kid]);
  });

  it("a key lookup that returns a key under a different kid (a sloppy key set cannot widen kid matching)", async () => {
    const sloppy: TokenKind = { ...kind, key: (kid) => (kid.toLowerCase() === hmacKey.kid ? hmacKey : undefined) };
    expect(await refusal(await forgeJwt(header({ kid: hmacKey.kid.toUpperCase() }), claims(), hmacSign), sloppy)).toBe("unknown_kid");
  });

  it.each([
    ["an empty string", ""],
    ["two segments", "e30.e30"],
    ["four segments", "e30.e30.e30.e30"],
    ["an empty signature", "e30.e30."],
    ["whitespace", " e30.e30.AAAA"],
    ["padding", "e30.e30.AAAA=="],
    ["standard base64 characters", "e30.e30.AA+/"],
    ["JSON serialisation", '{"payload":"e30","signatures":[]}'],
  ])("a malformed token: %s", async (_, token) => {
    expect(await refusal(token)).toBe("malformed");
  });

  it.each([
    ["not JSON", base64url("alg=HS256"), "malformed_header"],
    ["a JSON array", base64url('["HS256"]'), "malformed_header"],
    ["JSON null", base64url("null"), "malformed_header"],
    ["invalid UTF-8", base64url(new Uint8Array([0x7b, 0xff, 0x7d])), "malformed_header"],
    ["an impossible base64url length", "eyJhbGciOiJIUzI1NiJ9A", "malformed_header_encoding"],
  ])("a protected header that is %s", async (_, segment, reason) => {
    const [, p, s] = (await forgeJwt(header(), claims(), hmacSign)).split(".");
    expect(await refusal(`${segment}.${p}.${s}`)).toBe(reason);
  });

  it("a correctly signed payload that is not a JSON object", async () => {
    for (const payload of ["[1,2]", "null", '"claims"', "not json"]) {
      expect(await refusal(await forgeJwt(header(), payload, hmacSign))).toBe("malformed_payload");
    }
  });
});

describe("verifyJwt against algorithm confusion", () => {
  let edKind: TokenKind;
  let edPrivate: CryptoKey;
  let publicMaterial: string[];

  beforeAll(async () => {
    const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
    edPrivate = pair.privateKey;
    const jwk = (await crypto.subtle.exportKey("jwk", pair.publicKey)) as JsonWebKey;
    const raw = new Uint8Array((await crypto.subtle.exportKey("raw", pair.publicKey)) as ArrayBuffer);
    const spki = new Uint8Array((await crypto.subtle.exportKey("spki", pair.publicKey)) as ArrayBuffer);
    const edKey = webCryptoVerificationKey("ed-1", "EdDSA", pair.publicKey, { name: "Ed25519" });
    edKind = { typ: TYP, issuer: ISSUER, audience: AUDIENCE, kidPattern: ANY_KID, key: (kid) => (kid === "ed-1" ? edKey : undefined) };
    const pem = `-----BEGIN PUBLIC KEY-----\n${btoa(String.fromCharCode(...spki))}\n-----END PUBLIC KEY-----\n`;
    publicMaterial = [JSON.stringify(jwk), JSON.stringify({ ...jwk, kid: "ed-1" }), jwk.x!, pem, String.fromCharCode(...raw)];
  });

  it("an EdDSA key verifies its own tokens (the baseline)", async () => {
    const signer: Signer = async (input) => new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, edPrivate, input));
    expect((await verifyJwt(await forgeJwt({ alg: "EdDSA", typ: TYP, kid: "ed-1" }, claims(), signer), edKind)).sub).toBe("user-1");
  });

  it("HS256 tokens keyed with the EdDSA public key (JWK JSON, x, PEM, raw bytes) are refused for the algorithm", async () => {
    for (const secret of publicMaterial) {
      const token = await forgeJwt({ alg: "HS256", typ: TYP, kid: "ed-1" }, claims(), hmacSigner(secret));
      expect(await refusal(token, edKind)).toBe("wrong_alg");
    }
  });

  it("an HS256 token presented to an RS256 key set is refused for the algorithm", async () => {
    const pair = (await crypto.subtle.generateKey(
      { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
      true,
      ["sign", "verify"],
    )) as CryptoKeyPair;
    const rsKey = webCryptoVerificationKey("rs-1", "RS256", pair.publicKey, { name: "RSASSA-PKCS1-v1_5" });
    const rsKind: TokenKind = { ...edKind, key: (kid) => (kid === "rs-1" ? rsKey : undefined) };
    const jwk = JSON.stringify(await crypto.subtle.exportKey("jwk", pair.publicKey));
    expect(await refusal(await forgeJwt({ alg: "HS256", typ: TYP, kid: "rs-1" }, claims(), hmacSigner(jwk)), rsKind)).toBe("wrong_alg");
    const rsSigner: Signer = async (input) =>
      new Uint8Array(await crypto.subtle.sign({ name: "RSASSA-PKCS1-v1_5" }, pair.privateKey, input));
    expect((await verifyJwt(await forgeJwt({ alg: "RS256", typ: TYP, kid: "rs-1" }, claims(), rsSigner), rsKind)).sub).toBe("user-1");
  });
});

// ---------------------------------------------------------------------------------------------
// Wycheproof JWS vectors (C2SP, Apache-2.0), kept in test/vectors/ (see its README).
//
// The vectors carry no `typ`, so the kind below has none either (`typ: undefined`), which lets
// them reach every later check; their payloads ("foo", "Test", ...) are never claims sets, so even
// a good signature ends in `malformed_payload`. What tells a real rejection apart is *where* it
// happens: an invalid vector must be refused before its signature is accepted.
//
// Keys: a group's JWK becomes a verification key only as a key set of ours would admit it, bound
// to its one `alg`, for signing use only (`use` absent or "sig", `key_ops` absent or with
// "verify"). Encryption keys (the rejectWrongUse / rejectWrongKeyOps groups) are therefore absent.

interface WycheproofTest {
  tcId: number;
  comment: string;
  jws: string;
  result: "valid" | "invalid" | "acceptable";
}
interface WycheproofGroup {
  comment: string;
  public?: JsonWebKey & { kid?: string; alg?: string; use?: string };
  private?: JsonWebKey & { kid?: string; alg?: string; use?: string };
  tests: WycheproofTest[];
}

const REFUSED_BEFORE_THE_SIGNATURE = new Set([
  "malformed",
  "malformed_header",
  "wrong_typ",
  "missing_kid",
  "malformed_kid",
  "unknown_kid",
  "wrong_alg",
  "bad_signature",
]);
const refusedBeforeSignature = (reason: string) =>
  REFUSED_BEFORE_THE_SIGNATURE.has(reason) || reason.startsWith("forbidden_header_") || reason.endsWith("_encoding");

const WEBCRYPTO: Record<string, { importParams: ImportParams; verifyParams: VerifyParams }> = {
  HS256: { importParams: { name: "HMAC", hash: "SHA-256" }, verifyParams: "HMAC" },
  RS256: { importParams: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, verifyParams: "RSASSA-PKCS1-v1_5" },
  RS384: { importParams: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-384" }, verifyParams: "RSASSA-PKCS1-v1_5" },
  RS512: { importParams: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-512" }, verifyParams: "RSASSA-PKCS1-v1_5" },
  PS256: { importParams: { name: "RSA-PSS", hash: "SHA-256" }, verifyParams: { name: "RSA-PSS", saltLength: 32 } },
  PS384: { importParams: { name: "RSA-PSS", hash: "SHA-384" }, verifyParams: { name: "RSA-PSS", saltLength: 48 } },
  PS512: { importParams: { name: "RSA-PSS", hash: "SHA-512" }, verifyParams: { name: "RSA-PSS", saltLength: 64 } },
  ES256: { importParams: { name: "ECDSA", namedCurve: "P-256" }, verifyParams: { name: "ECDSA", hash: "SHA-256" } },
  ES512: { importParams: { name: "ECDSA", namedCurve: "P-521" }, verifyParams: { name: "ECDSA", hash: "SHA-512" } },
};

async function admitKey(group: WycheproofGroup): Promise<VerificationKey | undefined> {
  const jwk = group.public ?? group.private;
  if (!jwk?.kid || !jwk.alg || !WEBCRYPTO[jwk.alg]) return undefined;
  if (jwk.use !== undefined && jwk.use !== "sig") return undefined;
  if (jwk.key_ops !== undefined && !jwk.key_ops.includes("verify")) return undefined;
  const { importParams, verifyParams } = WEBCRYPTO[jwk.alg]!;
  const { kid, alg, use, key_ops, ...material } = jwk as JsonWebKey & { kid: string; alg: string; use?: string };
  const key = await crypto.subtle.importKey("jwk", material, importParams, false, ["verify"]);
  return webCryptoVerificationKey(kid, alg, key, verifyParams);
}

const groups = (vectors as unknown as { testGroups: WycheproofGroup[] }).testGroups;

describe("Wycheproof json_web_signature_test.json", () => {
  it("the vector file is the one test/vectors/README.md describes", () => {
    expect(groups.length).toBeGreaterThan(20);
    expect(groups.flatMap((group) => group.tests).filter((test) => test.result === "invalid").length).toBeGreaterThan(300);
  });

  it.each(groups.map((group, index) => [`#${index} ${group.comment}`, group] as const))(
    "group %s: every invalid vector is refused with a TokenError before its signature is accepted",
    async (_, group) => {
      const key = await admitKey(group);
      const wycheproofKind: TokenKind = {
        typ: undefined as unknown as string,
        issuer: ISSUER,
        audience: AUDIENCE,
        kidPattern: ANY_KID,
        key: (kid) => (key && kid === key.kid ? key : undefined),
      };
      const validTokens = new Set(group.tests.filter((test) => test.result === "valid").map((test) => test.jws));
      const failures: string[] = [];
      for (const test of group.tests.filter((candidate) => candidate.result === "invalid")) {
        let reason: string;
        try {
          reason = await refusal(test.jws, wycheproofKind);
        } catch (error) {
          failures.push(`tcId ${test.tcId} (${test.comment}): ${(error as Error).message}`);
          continue;
        }
        // Two vectors of this snapshot (invalidBase64Padding*) are byte-identical to a valid one;
        // no verifier can tell them apart, so for those only the refusal itself is required.
        if (!refusedBeforeSignature(reason) && !validTokens.has(test.jws)) {
          failures.push(`tcId ${test.tcId} (${test.comment}): signature accepted, refused only for ${reason}`);
        }
      }
      expect(failures).toEqual([]);
    },
  );

  it("the harness is sound: the plain valid vectors of the HS256, RS256 and ES256 groups pass the signature check", async () => {
    const checked: number[] = [];
    for (const group of groups) {
      const key = await admitKey(group);
      if (!key || !["HS256", "RS256", "ES256"].includes(key.alg)) continue;
      const wycheproofKind: TokenKind = {
        typ: undefined as unknown as string,
        issuer: ISSUER,
        audience: AUDIENCE,
        kidPattern: ANY_KID,
        key: (kid) => (kid === key.kid ? key : undefined),
      };
      for (const test of group.tests.filter(
        (candidate) => candidate.result === "valid" && /^(acceptsValid|ValidMac|valid)$/.test(candidate.comment),
      )) {
        expect(await refusal(test.jws, wycheproofKind), `tcId ${test.tcId}`).toBe("malformed_payload");
        checked.push(test.tcId);
      }
    }
    expect(checked.length).toBeGreaterThanOrEqual(4);
  });
});
