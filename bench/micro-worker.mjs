// The micro-benchmark Worker: bundled by bench/micro.mjs with esbuild and run on workerd through
// Miniflare, never deployed. `GET /ops` lists the operations; `GET /run?op=NAME&n=N` runs N
// iterations of one operation and answers how long they took, timed inside workerd.
//
// Workers clocks only move across I/O (a Spectre mitigation), so every timed batch is fenced
// by `await scheduler.wait(0)` on both sides; the runner also times each request from Node as a
// cross-check, and falls back to that when the in-Worker clock did not move.
// Packages the project may drop: bench/micro.mjs resolves these to null exports when missing.
import { jwtVerify, SignJWT } from "bench-optional:jose";
import { ml_dsa65 as nobleMlDsa65 } from "bench-optional:noble-ml-dsa";
import { eventHash, GENESIS_HASH } from "../src/audit/chain.ts";
import { signReceipt } from "../src/audit/receipts.ts";
import { issueAccessToken, verifyAccessToken } from "../src/credentials/access-token.ts";
import { generateApiKey } from "../src/crypto/api-key.ts";
import { sha256Hex } from "../src/crypto/digest.ts";
import { fromBase64Url, toBase64Url } from "../src/crypto/encoding.ts";
import { verificationKeyFromJwk } from "../src/crypto/jwk.ts";
import { THUMBPRINT_KID, verifyJwt } from "../src/crypto/jwt.ts";
import { CURRENT_PASSWORD_PARAMS, hashPassword, verifyPassword } from "../src/crypto/password.ts";
import { publishedOAuthJwks } from "../src/oauth/signing-keys.ts";
import { ACCESS_TOKEN_TYP, issueAccessToken as issueOAuthAccessToken } from "../src/oauth/tokens.ts";
import { issuePqcToken, verifyPqcToken } from "../src/pqc/token.ts";
import { generateOidcSigningKeys } from "../test/support/oidc-signing-keys.ts";

const SECRET = new Uint8Array(32).map((_, i) => (i * 37 + 11) & 0xff);
const SECRET_B64URL = btoa(String.fromCharCode(...SECRET))
  .replace(/\+/g, "-")
  .replace(/\//g, "_")
  .replace(/=+$/, "");
const CONFIG = {
  environment: "test",
  issuer: "https://id.heady.bench",
  accessTokenAudience: "heady-api",
  accessTokenTtlSeconds: 3600,
  allowedOrigins: new Set(),
  jwtSecret: SECRET_B64URL,
  // The receipt key and the local PQC signer, from fixed bench seeds (32 bytes each).
  receiptSeed: SECRET_B64URL,
  pqc: { tokenTtlSeconds: 300, services: {}, signer: { kind: "local", seed: SECRET_B64URL } },
};
/** A KV namespace that holds nothing: the PQC keyring then keeps the key in the isolate, as a warm Worker does. */
const EMPTY_KV = { get: async () => null, put: async () => {} };
/** A login event as the ledger hashes and signs it. */
const LOGIN_EVENT = {
  id: "0b9b5a5e-8f4e-4a4c-9a65-6d7f1e2f3a4b",
  seq: 12345,
  type: "login.succeeded",
  subject: "7890ca5e-1d8f-4275-b7f8-015af936a2a6",
  actor: null,
  requestId: "3f2d9c1e-2b7a-4c55-8e0d-1a2b3c4d5e6f",
  ip: "2001:db8:1::2a",
  userAgent: "autocannon",
  details: { rehashed: false },
  createdAt: 1795398622383,
};
const MESSAGE = new TextEncoder().encode(
  "eyJhbGciOiJFZERTQSIsInR5cCI6ImF0K2p3dCJ9.eyJpc3MiOiJodHRwczovL2lkLmhlYWR5LmJlbmNoIiwic3ViIjoiYmVuY2gifQ",
);
const PASSWORD = "correct horse battery staple 42";

/**
 * Each operation: `about` says what is measured, `setup` prepares keys and inputs once per
 * isolate and returns the function that one iteration awaits. A setup that throws marks the
 * operation unavailable (for example ML-DSA-65 without `webcrypto_modern_algorithms`).
 */
const OPS = {
  "hs256-verify-project": {
    about: "HS256 access-token verify as /api/auth/verify does it (src/credentials/access-token.ts: header, kid, HMAC, claims)",
    async setup() {
      const { token } = await issueAccessToken(CONFIG, {
        userId: "u-bench",
        email: "bench@heady.test",
        role: "user",
        sessionId: "s-bench",
      });
      return () => verifyAccessToken(CONFIG, token);
    },
  },
  "hs256-verify-jose": {
    about: "HS256 JWT verify with jose jwtVerify (iss, aud, exp checked)",
    async setup() {
      if (!SignJWT) throw new Error("jose is not installed");
      const token = await new SignJWT({ sub: "u-bench", role: "user", sid: "s-bench" })
        .setProtectedHeader({ alg: "HS256", typ: "at+jwt" })
        .setIssuer(CONFIG.issuer)
        .setAudience(CONFIG.accessTokenAudience)
        .setIssuedAt()
        .setExpirationTime("1h")
        .sign(SECRET);
      const options = { issuer: CONFIG.issuer, audience: CONFIG.accessTokenAudience, algorithms: ["HS256"] };
      return () => jwtVerify(token, SECRET, options);
    },
  },
  "pqc-token-verify-project": {
    about:
      "PQC token verify as /api/auth/verify does it (src/pqc/token.ts: split and decode the ~5 KB JWS, kid, isolate-cached key, native ML-DSA-65, claims)",
    async setup() {
      const service = {
        serviceId: "svc-headyme-sync",
        endpoint: "https://me.heady.systems/api/sync",
        operations: { sync: ["sync:read", "sync:write"] },
      };
      const { token } = await issuePqcToken(CONFIG, {
        subject: "u-bench",
        role: "user",
        serviceName: "headyme",
        service,
        operation: "sync",
      });
      await verifyPqcToken(CONFIG, EMPTY_KV, token); // puts the key in the isolate's keyring
      return () => verifyPqcToken(CONFIG, EMPTY_KV, token);
    },
  },
  "base64url-decode-mldsa-signature": {
    about:
      "strict base64url decode of a 3,309-byte ML-DSA-65 signature (4,412 characters), as every PQC token verify does (src/crypto/encoding.ts fromBase64Url: strict alphabet, length and canonical tail)",
    async setup() {
      const text = toBase64Url(crypto.getRandomValues(new Uint8Array(3309)));
      return async () => fromBase64Url(text);
    },
  },
  "ledger-event-hash": {
    about: "audit ledger chain hash of a login event (src/audit/chain.ts eventHash: RFC 8785 canonical JSON + SHA-256, @noble/hashes)",
    async setup() {
      return async () => eventHash(LOGIN_EVENT, GENESIS_HASH);
    },
  },
  "ledger-receipt-sign": {
    about: "trust receipt for a login event (src/audit/receipts.ts signReceipt: EdDSA compact JWS)",
    async setup() {
      const chained = { ...LOGIN_EVENT, prevHash: GENESIS_HASH, hash: eventHash(LOGIN_EVENT, GENESIS_HASH) };
      await signReceipt(CONFIG, chained);
      return () => signReceipt(CONFIG, chained);
    },
  },
  "sha256-api-key": {
    about: "SHA-256 of an hdy_ API key, hex-encoded (src/crypto/digest.ts sha256Hex)",
    async setup() {
      const { key } = generateApiKey();
      return () => sha256Hex(key);
    },
  },
  "password-hash": {
    about: `password hash, src/crypto/password.ts hashPassword: PBKDF2-SHA256 ${CURRENT_PASSWORD_PARAMS.iterations} iterations × ${CURRENT_PASSWORD_PARAMS.rounds} rounds`,
    slow: true,
    async setup() {
      return () => hashPassword(PASSWORD);
    },
  },
  "password-verify": {
    about: "password verify (what login pays), src/crypto/password.ts verifyPassword with the current parameters",
    slow: true,
    async setup() {
      const phc = await hashPassword(PASSWORD);
      return () => verifyPassword(PASSWORD, phc);
    },
  },
  "ed25519-sign": {
    about: "Ed25519 sign of a 100-byte message (WebCrypto)",
    async setup() {
      const { privateKey } = await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
      return () => crypto.subtle.sign({ name: "Ed25519" }, privateKey, MESSAGE);
    },
  },
  "ed25519-verify": {
    about: "Ed25519 verify of a 100-byte message (WebCrypto)",
    async setup() {
      const { privateKey, publicKey } = await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
      const signature = await crypto.subtle.sign({ name: "Ed25519" }, privateKey, MESSAGE);
      return async () => {
        if (!(await crypto.subtle.verify({ name: "Ed25519" }, publicKey, signature, MESSAGE))) throw new Error("Ed25519 verify failed");
      };
    },
  },
  "ml-dsa-65-verify-webcrypto": {
    about: 'ML-DSA-65 verify, native WebCrypto ({name:"ML-DSA-65"}, needs webcrypto_modern_algorithms)',
    async setup() {
      const { privateKey, publicKey } = await crypto.subtle.generateKey({ name: "ML-DSA-65" }, false, ["sign", "verify"]);
      const signature = await crypto.subtle.sign({ name: "ML-DSA-65" }, privateKey, MESSAGE);
      return async () => {
        if (!(await crypto.subtle.verify({ name: "ML-DSA-65" }, publicKey, signature, MESSAGE))) throw new Error("ML-DSA-65 verify failed");
      };
    },
  },
  "ml-dsa-65-sign-webcrypto": {
    about: "ML-DSA-65 sign, native WebCrypto",
    async setup() {
      const { privateKey } = await crypto.subtle.generateKey({ name: "ML-DSA-65" }, false, ["sign", "verify"]);
      return () => crypto.subtle.sign({ name: "ML-DSA-65" }, privateKey, MESSAGE);
    },
  },
  "ml-dsa-65-verify-noble": {
    about: "ML-DSA-65 verify, @noble/post-quantum (pure JS)",
    async setup() {
      if (!nobleMlDsa65) throw new Error("@noble/post-quantum is not installed");
      const keys = nobleMlDsa65.keygen(new Uint8Array(32).fill(7));
      const signature = nobleMlDsa65.sign(MESSAGE, keys.secretKey);
      return async () => {
        if (!nobleMlDsa65.verify(signature, MESSAGE, keys.publicKey)) throw new Error("noble ML-DSA-65 verify failed");
      };
    },
  },
  "ml-dsa-65-sign-noble": {
    about: "ML-DSA-65 sign, @noble/post-quantum (pure JS)",
    slow: true,
    async setup() {
      if (!nobleMlDsa65) throw new Error("@noble/post-quantum is not installed");
      const keys = nobleMlDsa65.keygen(new Uint8Array(32).fill(7));
      return async () => nobleMlDsa65.sign(MESSAGE, keys.secretKey);
    },
  },
};

/** The OAuth provider's config for the bench: one fresh active key per algorithm (made once per isolate). */
let oauthConfig;
async function benchOAuthConfig() {
  oauthConfig ??= generateOidcSigningKeys().then((keys) => ({
    ...CONFIG,
    providers: { publicUrl: CONFIG.issuer },
    oauth: { signingKeys: JSON.parse(keys) },
  }));
  return oauthConfig;
}
/** An app as the token endpoint sees it, signing its access tokens with `alg`. */
const benchClient = (alg) => ({ id: "bench-client", accessTokenSignedResponseAlg: alg, accessTokenTtlSeconds: 600 });

for (const alg of ["RS256", "ES256", "EdDSA"]) {
  OPS[`oauth-access-token-issue-${alg.toLowerCase()}`] = {
    about: `RFC 9068 access token issuance, ${alg} (src/oauth/tokens.ts: claims and signature; no D1)`,
    async setup() {
      const config = await benchOAuthConfig();
      const grant = { client: benchClient(alg), subject: "u-bench", scope: "openid email", resource: "https://api.heady.bench" };
      return () => issueOAuthAccessToken(config, grant);
    },
  };
  OPS[`oauth-access-token-verify-jwks-${alg.toLowerCase()}`] = {
    about: `${alg} access token verified from the published JWKS, as an origin does (keys imported once; the one JWS verifier)`,
    async setup() {
      const config = await benchOAuthConfig();
      const { token } = await issueOAuthAccessToken(config, {
        client: benchClient(alg),
        subject: "u-bench",
        scope: "email",
        resource: "https://api.heady.bench",
      });
      const keys = new Map();
      for (const jwk of await publishedOAuthJwks(config)) keys.set(jwk.kid, await verificationKeyFromJwk(jwk));
      const kind = {
        typ: ACCESS_TOKEN_TYP,
        issuer: CONFIG.issuer,
        audience: "https://api.heady.bench",
        kidPattern: THUMBPRINT_KID,
        key: (kid) => keys.get(kid),
      };
      return () => verifyJwt(token, kind);
    },
  };
}

const prepared = new Map();
function prepare(name) {
  let entry = prepared.get(name);
  if (!entry) {
    entry = OPS[name].setup().then(
      (run) => ({ run }),
      (error) => ({ error: String(error?.message ?? error) }),
    );
    prepared.set(name, entry);
  }
  return entry;
}

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/ops") {
      return Response.json(Object.entries(OPS).map(([name, op]) => ({ name, about: op.about, slow: Boolean(op.slow) })));
    }
    if (url.pathname !== "/run") return new Response("not found", { status: 404 });
    const name = url.searchParams.get("op") ?? "";
    const n = Math.max(0, Math.floor(Number(url.searchParams.get("n") ?? "1")));
    if (!Object.hasOwn(OPS, name)) return Response.json({ error: `unknown op ${name}` }, { status: 404 });
    const entry = await prepare(name);
    if (entry.error) return Response.json({ op: name, unavailable: entry.error });
    try {
      await entry.run(); // one untimed iteration: lazily imported keys, JIT
      await scheduler.wait(0);
      const start = performance.now();
      for (let i = 0; i < n; i++) await entry.run();
      await scheduler.wait(0);
      const elapsedMs = performance.now() - start;
      return Response.json({ op: name, n, elapsedMs });
    } catch (error) {
      return Response.json({ op: name, failed: String(error?.stack ?? error) }, { status: 500 });
    }
  },
};
