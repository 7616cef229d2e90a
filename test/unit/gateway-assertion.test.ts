import { env, exports } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { receiptKey } from "../../src/audit/receipts";
import {
  AssertionError,
  AssertionKeysUnavailableError,
  type AssertionVerifierOptions,
  createAssertionVerifier,
} from "../../src/clients/origin/verify-assertion";
import { ed25519FromSeed } from "../../src/crypto/ed25519";
import { signJwt } from "../../src/crypto/jwt";
import { loadConfig } from "../../src/env";
import { type AssertedRequest, type CallerClaims, signAssertion } from "../../src/gateway/assertion";
import { decodeHeader } from "../support/tokens";

const ISSUER = "https://id.heady.test";
const JWKS_URL = `${ISSUER}/.well-known/jwks.json`;
const ORIGIN = "https://repos.heady.test";

const config = () => loadConfig(env);

const asked: AssertedRequest = {
  origin: ORIGIN,
  method: "POST",
  path: "/api/repo/clone",
  requirement: "pqc:production/clone",
  requestId: "",
};
const caller: CallerClaims = {
  cred: "pqc_token",
  sub: "user-1",
  role: "operator",
  service: "production",
  operation: "clone",
  permissions: ["repo:read"],
};

/** A fresh assertion for `asked`, with its own request id. */
const assertion = (overrides: Partial<AssertedRequest> = {}) =>
  signAssertion(config(), { ...asked, requestId: crypto.randomUUID(), ...overrides }, caller);

/** The request as the origin sees it. */
const atOrigin = (token: string | undefined, url = `${ORIGIN}/api/repo/clone`, method = "POST") =>
  new Request(url, { method, headers: token === undefined ? {} : { "X-Heady-Assertion": token } });

let jwksReads = 0;
beforeEach(() => {
  jwksReads = 0;
  // The origin's only line to the gateway: its JWKS, served here by the Worker itself.
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input) => {
    const url = input instanceof Request ? input.url : String(input);
    if (url !== JWKS_URL) throw new TypeError(`unexpected fetch to ${url}`);
    jwksReads++;
    return exports.default.fetch(new Request(url));
  });
});

afterEach(() => {
  vi.restoreAllMocks();
});

const verifier = (options: Partial<AssertionVerifierOptions> = {}) =>
  createAssertionVerifier({ jwksUrl: JWKS_URL, issuer: ISSUER, audience: ORIGIN, ...options });

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AssertionError);
  return (error as AssertionError).reason;
}

describe("the assertion the gateway signs", () => {
  it("is an EdDSA assertion+jwt whose kid is the marked OKP key of the JWKS", async () => {
    const token = await assertion();
    const header = decodeHeader(token);
    expect(header).toEqual({ alg: "EdDSA", typ: "assertion+jwt", kid: expect.any(String) });
    const { keys } = (await (await exports.default.fetch(new Request(JWKS_URL))).json()) as { keys: Array<Record<string, unknown>> };
    const published = keys.filter((key) => key.kid === header.kid);
    expect(published).toEqual([
      { kty: "OKP", crv: "Ed25519", alg: "EdDSA", use: "sig", kid: header.kid, x: expect.any(String), token_typ: "assertion+jwt" },
    ]);
    // The receipt key is Ed25519 too, but a different key, and not marked for assertions.
    const receipt = (await receiptKey(config())).jwk;
    expect(receipt.kid).not.toBe(header.kid);
    expect(keys.find((key) => key.kid === receipt.kid)?.token_typ).toBeUndefined();
  });

  it("verifies with the helper from the JWKS alone, and says who called and what was checked", async () => {
    const requestId = crypto.randomUUID();
    const token = await signAssertion(config(), { ...asked, requestId }, caller);
    const claims = await verifier().verify(atOrigin(token));
    const now = Math.floor(Date.now() / 1000);
    expect(claims).toEqual({
      iss: ISSUER,
      aud: ORIGIN,
      sub: "user-1",
      role: "operator",
      cred: "pqc_token",
      req: "pqc:production/clone",
      service: "production",
      operation: "clone",
      permissions: ["repo:read"],
      htm: "POST",
      htu: `${ORIGIN}/api/repo/clone`,
      jti: requestId,
      iat: expect.any(Number),
      exp: expect.any(Number),
    });
    expect(claims.exp - claims.iat).toBe(60);
    expect(Math.abs(claims.iat - now)).toBeLessThanOrEqual(2);
  });

  it("works on a Node-style request (headers as a record, url as path and query)", async () => {
    const token = await assertion();
    const claims = await verifier().verify({
      method: "post",
      url: "/api/repo/clone?depth=1",
      headers: { "x-heady-assertion": token, host: "repos" },
    });
    expect(claims.sub).toBe("user-1");
    expect(
      await refusal(verifier().verify({ method: "POST", url: "/api/repo/clone", headers: { "x-heady-assertion": [token, token] } })),
    ).toBe("malformed");
  });
});

describe("the helper refuses", () => {
  it("a request without an assertion", async () => {
    expect(await refusal(verifier().verify(atOrigin(undefined)))).toBe("missing");
  });

  it("an assertion for another origin", async () => {
    const token = await assertion({ origin: "https://me.heady.test" });
    expect(await refusal(verifier().verify(atOrigin(token)))).toBe("wrong_aud");
  });

  it("an assertion replayed to another path or method of the same origin", async () => {
    const token = await assertion();
    expect(await refusal(verifier().verify(atOrigin(token, `${ORIGIN}/api/repo/deploy`)))).toBe("wrong_path");
    expect(await refusal(verifier().verify(atOrigin(token, `${ORIGIN}/api/repo/clone`, "DELETE")))).toBe("wrong_method");
  });

  it("the same assertion twice (by default)", async () => {
    const token = await assertion();
    const origin = verifier();
    await origin.verify(atOrigin(token));
    expect(await refusal(origin.verify(atOrigin(token)))).toBe("replayed");
    const lenient = verifier({ rejectReplays: false });
    await lenient.verify(atOrigin(token));
    await expect(lenient.verify(atOrigin(token))).resolves.toMatchObject({ sub: "user-1" });
  });

  it("a tampered assertion", async () => {
    const [header, payload, signature] = (await assertion()).split(".") as [string, string, string];
    const claims = JSON.parse(atob(payload.replace(/-/g, "+").replace(/_/g, "/")));
    const escalated = btoa(JSON.stringify({ ...claims, role: "admin" }))
      .replace(/\+/g, "-")
      .replace(/\//g, "_")
      .replace(/=+$/, "");
    expect(await refusal(verifier().verify(atOrigin(`${header}.${escalated}.${signature}`)))).toBe("bad_signature");
  });

  it("an assertion whose signature is not 64 bytes, as a refusal rather than WebCrypto's OperationError", async () => {
    const [header, payload] = (await assertion()).split(".") as [string, string];
    expect(await refusal(verifier().verify(atOrigin(`${header}.${payload}.${"A".repeat(43)}`)))).toBe("bad_signature");
  });

  it("an assertion signed by another key: the receipt key, or a key not in the JWKS", async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: ISSUER,
      aud: ORIGIN,
      cred: "none",
      req: "public",
      htm: "POST",
      htu: `${ORIGIN}/api/repo/clone`,
      jti: crypto.randomUUID(),
      iat: now,
      exp: now + 60,
    };
    const byReceiptKey = await signJwt(claims, (await receiptKey(config())).signing, "assertion+jwt");
    expect(await refusal(verifier().verify(atOrigin(byReceiptKey)))).toBe("unknown_kid");
    const stranger = await ed25519FromSeed("c3RyYW5nZXItc3RyYW5nZXItc3RyYW5nZXItc3RyYW4");
    expect(await refusal(verifier().verify(atOrigin(await signJwt(claims, stranger.signing, "assertion+jwt"))))).toBe("unknown_kid");
  });

  it("an expired one, one living longer than 60 s, one of another typ or issuer", async () => {
    const key = (await ed25519FromSeed(env.ASSERTION_SEED!)).signing;
    const now = Math.floor(Date.now() / 1000);
    const base = {
      iss: ISSUER,
      aud: ORIGIN,
      cred: "none",
      req: "public",
      htm: "POST",
      htu: `${ORIGIN}/api/repo/clone`,
      iat: now,
      exp: now + 60,
    };
    const forge = (overrides: Record<string, unknown>, typ = "assertion+jwt") =>
      signJwt({ ...base, jti: crypto.randomUUID(), ...overrides }, key, typ);
    // The forged baseline passes, so each refusal below is about its one change.
    await expect(verifier().verify(atOrigin(await forge({})))).resolves.toMatchObject({ req: "public" });
    expect(await refusal(verifier().verify(atOrigin(await forge({ iat: now - 120, exp: now - 60 }))))).toBe("expired");
    expect(await refusal(verifier().verify(atOrigin(await forge({ exp: now + 3600 }))))).toBe("lifetime_too_long");
    expect(await refusal(verifier().verify(atOrigin(await forge({}, "receipt+jwt"))))).toBe("wrong_typ");
    expect(await refusal(verifier().verify(atOrigin(await forge({ iss: "https://evil.test" }))))).toBe("wrong_iss");
    expect(await refusal(verifier().verify(atOrigin(await forge({ htu: undefined }))))).toBe("missing_htu");
  });
});

describe("the helper's key handling", () => {
  it("reads the JWKS once, and again on an unknown kid only after a cooldown", async () => {
    const origin = verifier();
    for (let i = 0; i < 3; i++) await origin.verify(atOrigin(await assertion()));
    expect(jwksReads).toBe(1);
    const stranger = await ed25519FromSeed("c3RyYW5nZXItc3RyYW5nZXItc3RyYW5nZXItc3RyYW4");
    const now = Math.floor(Date.now() / 1000);
    const junk = await signJwt({ iss: ISSUER, aud: ORIGIN, iat: now, exp: now + 60 }, stranger.signing, "assertion+jwt");
    for (let i = 0; i < 3; i++) await refusal(origin.verify(atOrigin(junk)));
    expect(jwksReads).toBe(1);
  });

  it("a kid that is no thumbprint is refused without reading the JWKS at all", async () => {
    const [, payload, signature] = (await assertion()).split(".") as [string, string, string];
    const header = btoa(JSON.stringify({ alg: "EdDSA", typ: "assertion+jwt", kid: "k".repeat(600) })).replace(/=+$/, "");
    expect(await refusal(verifier().verify(atOrigin(`${header}.${payload}.${signature}`)))).toBe("malformed_kid");
    expect(jwksReads).toBe(0);
  });

  it("a JWKS it cannot read is not an AssertionError (the origin should answer 503), and is retried next time", async () => {
    vi.restoreAllMocks();
    let down = true;
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input) => {
      if (down) return new Response("unavailable", { status: 503 });
      return exports.default.fetch(new Request(input instanceof Request ? input.url : String(input)));
    });
    const origin = verifier();
    const error = await origin.verify(atOrigin(await assertion())).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AssertionKeysUnavailableError);
    down = false;
    await expect(origin.verify(atOrigin(await assertion()))).resolves.toMatchObject({ sub: "user-1" });
  });

  it("a request that finds a JWKS read stuck past its bound (its request went away) reads for itself instead of waiting on another request's read", async () => {
    vi.restoreAllMocks();
    let reads = 0;
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input) => {
      reads += 1;
      if (reads === 1) return new Promise<Response>(() => {}); // never answers
      return exports.default.fetch(new Request(input instanceof Request ? input.url : String(input)));
    });
    const origin = verifier();
    const first = origin.verify(atOrigin(await assertion()));
    let firstSettled = false;
    void first.catch(() => {}).finally(() => (firstSettled = true));
    await vi.waitFor(() => expect(reads).toBe(1));
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      vi.setSystemTime(Date.now() + 60_000); // past every bound
      await expect(origin.verify(atOrigin(await assertion()))).resolves.toMatchObject({ sub: "user-1" });
      expect(firstSettled).toBe(false);
    } finally {
      vi.useRealTimers();
    }
  });

  it("refuses options that could never verify anything, when built", () => {
    expect(() => verifier({ audience: "https://repos.heady.test/api" })).toThrow(/audience must be a bare origin/);
    expect(() => verifier({ audience: "https://repos.heady.test/" })).toThrow(/audience must be a bare origin/);
    expect(() => verifier({ issuer: "" })).toThrow(/issuer is required/);
    expect(() => verifier({ jwksUrl: "not a url" })).toThrow();
  });
});
