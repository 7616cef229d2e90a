import { exportJWK, exportSPKI, generateKeyPair } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { issueAccessToken } from "../../src/credentials/access-token";
import { registerUser, type SignedIn, sessionIdOf } from "../support/accounts";
import { testConfig } from "../support/config";
import { base64url } from "../support/encoding";
import {
  accessClaims,
  accessTokenKey,
  decodePayload,
  flipSignatureByte,
  forgeJwt,
  hmacSigner,
  type Signer,
  unsigned,
  verifyToken,
} from "../support/tokens";
import { request } from "../support/worker";

let account: SignedIn;
let key: { kid: string; sign: Signer };
/** The header the Worker itself puts on access tokens. */
let header: Record<string, unknown>;

const subject = () => ({ userId: account.userId, email: account.email, sessionId: sessionIdOf(account) });

/** Signs with the real JWT_SECRET, so the only thing wrong with the token is what the test changes. */
const forge = (claims = accessClaims(subject()), headerOverrides: Record<string, unknown> = {}) =>
  forgeJwt({ ...header, ...headerOverrides }, claims, key.sign);

function expectInvalidToken(response: { status: number; body: any; headers: Headers }) {
  expect(response.status).toBe(401);
  expect(response.body.error.code).toBe("invalid_token");
  expect(response.headers.get("WWW-Authenticate")).toBe('Bearer error="invalid_token"');
}

beforeAll(async () => {
  account = await registerUser();
  key = await accessTokenKey();
  header = { alg: "HS256", typ: "at+jwt", kid: key.kid };
});

describe("GET /api/auth/verify: valid credentials", () => {
  it("answers who an access token belongs to", async () => {
    const response = await verifyToken(account.accessToken);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      valid: true,
      kind: "access_token",
      sub: account.userId,
      role: "user",
      email: account.email,
      sid: sessionIdOf(account),
      exp: decodePayload(account.accessToken).exp,
    });
  });

  it("answers who the session cookie belongs to, expiring with the cookie", async () => {
    const response = await request("GET", "/api/auth/verify", { cookie: account.cookie });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ valid: true, kind: "session_cookie", sub: account.userId, sid: sessionIdOf(account) });
    const eightHours = Math.floor(Date.now() / 1000) + 8 * 3600;
    expect(Math.abs(response.body.exp - eightHours)).toBeLessThan(120);
  });

  it("accepts a token forged here with the real key and header (so every refusal below is about one change)", async () => {
    const token = await forge();
    expect(token.split(".")[0]).toBe(account.accessToken.split(".")[0]);
    expect((await verifyToken(token)).status).toBe(200);
  });

  it("accepts a token from issueAccessToken for a live session", async () => {
    const { token } = await issueAccessToken(testConfig(), { ...subject(), role: "user" });
    expect((await verifyToken(token)).body.sub).toBe(account.userId);
  });

  it("answers 401 unauthorized with no credential at all", async () => {
    const response = await request("GET", "/api/auth/verify");
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe("unauthorized");
  });
});

describe("GET /api/auth/verify: forged and tampered access tokens", () => {
  it.each(["none", "None", "NONE", "nOnE"])("refuses alg %s with an empty signature", async (alg) => {
    expectInvalidToken(await verifyToken(await forgeJwt({ ...header, alg }, accessClaims(subject()), unsigned)));
  });

  it("refuses alg none even when a signature is attached", async () => {
    expectInvalidToken(await verifyToken(await forge(accessClaims(subject()), { alg: "none" })));
  });

  it("refuses a token with one flipped signature bit, wherever the bit is", async () => {
    const token = await forge();
    for (const index of [0, 15, 31]) expectInvalidToken(await verifyToken(flipSignatureByte(token, index)));
  });

  it("refuses a token whose signature was stripped or truncated", async () => {
    const token = await forge();
    const [h, p, s = ""] = token.split(".");
    expectInvalidToken(await verifyToken(`${h}.${p}.`));
    expectInvalidToken(await verifyToken(`${h}.${p}`));
    expectInvalidToken(await verifyToken(`${h}.${p}.${s.slice(0, 20)}`));
  });

  it("refuses a payload changed after signing (role escalation)", async () => {
    const token = await forge();
    const [h, , s] = token.split(".");
    const escalated = base64url(JSON.stringify(accessClaims(subject(), { role: "admin" })));
    expectInvalidToken(await verifyToken(`${h}.${escalated}.${s}`));
  });

  it.each([
    ["JWT", "JWT"],
    ["a different token kind", "pqc+jwt"],
    ["a media-type spelling", "application/at+jwt"],
    ["another case", "AT+JWT"],
  ])("refuses typ %s", async (_, typ) => {
    expectInvalidToken(await verifyToken(await forge(accessClaims(subject()), { typ })));
  });

  it("refuses a token without typ", async () => {
    expectInvalidToken(await verifyToken(await forgeJwt({ alg: "HS256", kid: key.kid }, accessClaims(subject()), key.sign)));
  });

  it.each([
    ["another audience", { aud: "heady-admin" }],
    ["an audience list without ours", { aud: ["heady-admin", "other"] }],
    ["no audience", { aud: undefined }],
    ["another issuer", { iss: "https://evil.test" }],
    ["the issuer with a trailing slash", { iss: `${testConfig().issuer}/` }],
    ["no issuer", { iss: undefined }],
    ["an expired exp", { exp: Math.floor(Date.now() / 1000) - 5 }],
    ["exp equal to now minus one hour", { iat: Math.floor(Date.now() / 1000) - 7200, exp: Math.floor(Date.now() / 1000) - 3600 }],
    ["no exp", { exp: undefined }],
    ["a string exp", { exp: "9999999999" }],
    ["no iat", { iat: undefined }],
    ["a future nbf", { nbf: Math.floor(Date.now() / 1000) + 3600 }],
    ["no sub", { sub: undefined }],
    ["no sid", { sid: undefined }],
    ["no jti", { jti: undefined }],
    ["no role", { role: undefined }],
    ["a role that does not exist", { role: "superadmin" }],
    ["a role inherited from Object.prototype", { role: "constructor" }],
    ["a session id that does not exist", { sid: crypto.randomUUID() }],
    ["a numeric sub", { sub: 42 }],
  ])("refuses a correctly signed token with %s", async (_, overrides) => {
    expectInvalidToken(await verifyToken(await forge(accessClaims(subject(), overrides))));
  });

  it("refuses a real session id paired with another user's sub", async () => {
    const victim = await registerUser();
    expectInvalidToken(await verifyToken(await forge(accessClaims({ ...subject(), userId: victim.userId }))));
  });

  it.each([
    ["jku", { jku: "https://evil.test/jwks.json" }],
    ["x5u", { x5u: "https://evil.test/cert.pem" }],
    ["jwk", { jwk: { kty: "oct", k: "c2VjcmV0" } }],
    ["x5c", { x5c: ["MIIB"] }],
    ["crit", { crit: ["exp"] }],
    ["b64", { b64: false }],
    ["cty", { cty: "JWT" }],
  ])("refuses a header carrying %s, even with a valid signature", async (_, extra) => {
    expectInvalidToken(await verifyToken(await forge(accessClaims(subject()), extra)));
  });

  it.each([
    ["an unknown kid", () => "at-0000000000000000"],
    ["the kid in upper case", () => key.kid.toUpperCase()],
    ["the kid with a trailing space", () => `${key.kid} `],
    ["a prefix of the kid", () => key.kid.slice(0, -1)],
    ["the kid with a suffix", () => `${key.kid}0`],
    ["an empty kid", () => ""],
    ["a numeric kid", () => 1],
    ["a kid that is a list", () => [key.kid]],
  ])("refuses %s", async (_, kid) => {
    expectInvalidToken(await verifyToken(await forge(accessClaims(subject()), { kid: kid() })));
  });

  it("refuses a token without kid", async () => {
    expectInvalidToken(await verifyToken(await forgeJwt({ alg: "HS256", typ: "at+jwt" }, accessClaims(subject()), key.sign)));
  });

  it.each(["HS384", "HS512", "RS256", "EdDSA", "ES256"])("refuses alg %s on the HS256 key", async (alg) => {
    expectInvalidToken(await verifyToken(await forge(accessClaims(subject()), { alg })));
  });

  it("refuses HS256 tokens keyed with public-key material (algorithm confusion)", async () => {
    const { publicKey } = await generateKeyPair("EdDSA", { extractable: true });
    const jwk = await exportJWK(publicKey);
    const spki = await exportSPKI(publicKey);
    const secrets = [JSON.stringify(jwk), spki, jwk.x!, key.kid];
    for (const secret of secrets) {
      expectInvalidToken(await verifyToken(await forgeJwt(header, accessClaims(subject()), hmacSigner(secret))));
    }
  });

  // Regression: with the public header of a real access token, a signature segment of length 1 mod 4
  // once made atob throw outside the TokenError path, and an unauthenticated caller got a 500.
  it("refuses a signature segment of impossible base64url length (1 mod 4) with 401, never 500", async () => {
    const [h, p] = (await forge()).split(".");
    for (const signature of ["A", "AAAAA", `${"A".repeat(42)}B`]) {
      expectInvalidToken(await verifyToken(`${h}.${p}.${signature}`));
    }
  });

  it("refuses a token signed with another secret under the real kid", async () => {
    const other = crypto.getRandomValues(new Uint8Array(32));
    expectInvalidToken(await verifyToken(await forgeJwt(header, accessClaims(subject()), hmacSigner(other))));
  });

  it.each([
    ["four segments", (token: string) => `${token}.e30`],
    [
      "JSON serialisation",
      (token: string) => {
        const [protectedHeader, payload, signature] = token.split(".");
        return base64url(JSON.stringify({ protected: protectedHeader, payload, signature }));
      },
    ],
    ["padding", (token: string) => `${token}==`],
    ["a header that is not JSON", (token: string) => `${base64url("not json")}.${token.split(".").slice(1).join(".")}`],
    ["a header that is a JSON array", (token: string) => `${base64url("[1]")}.${token.split(".").slice(1).join(".")}`],
  ])("refuses a token with %s", async (_, mangle) => {
    expectInvalidToken(await verifyToken(mangle(await forge())));
  });

  it("refuses a correctly signed payload that is not a claims object", async () => {
    expectInvalidToken(await verifyToken(await forgeJwt(header, '["not","claims"]', key.sign)));
    expectInvalidToken(await verifyToken(await forgeJwt(header, "not json at all", key.sign)));
  });

  it("refuses the refresh token and the cookie value presented as a bearer token", async () => {
    expectInvalidToken(await verifyToken(account.refreshToken));
    expectInvalidToken(await verifyToken(account.cookie));
  });

  it("refuses an access token once its session is revoked, though its signature and exp are fine", async () => {
    const session = await registerUser();
    expect((await request("POST", "/api/auth/logout", { token: session.accessToken })).status).toBe(204);
    expectInvalidToken(await verifyToken(session.accessToken));
  });
});
