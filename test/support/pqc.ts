import { env } from "cloudflare:workers";
import { nobleMlDsa65 } from "../../src/crypto/ml-dsa";
import { akpThumbprint } from "../../src/pqc/akp";
import { PQC_AUDIENCE, PQC_TOKEN_TYP } from "../../src/pqc/token";
import { testConfig } from "./config";
import { base64url, fromBase64url } from "./encoding";
import type { Handler, RequestOptions } from "./http";
import { forgeJwt } from "./tokens";
import { request } from "./worker";

/**
 * Shared helpers for the PQC token tests: asking for tokens, the JWKS, mTLS certificates as
 * `request.cf` carries them, and signing tokens as the Worker would with the local seed.
 */

export const requestPqcToken = (body: { service: string; operation: string; reference?: boolean }, options: RequestOptions = {}) =>
  request("POST", "/api/auth/request-pqc-token", { ...options, body });

export interface JwksKey {
  kid: string;
  kty: string;
  alg?: string;
  pub?: string;
  use?: string;
  [member: string]: unknown;
}

export async function jwks(handler?: Handler): Promise<JwksKey[]> {
  const response = await request<{ keys: JwksKey[] }>("GET", "/.well-known/jwks.json", { handler });
  if (response.status !== 200) throw new Error(`JWKS answered ${response.status}: ${response.text}`);
  return response.body.keys;
}

// --- mTLS ------------------------------------------------------------------------------------

/** A random SHA-256 certificate fingerprint, as Cloudflare reports it (64 hex digits). */
export function randomFingerprint(): string {
  return [...crypto.getRandomValues(new Uint8Array(32))].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** `request.cf` for a connection that presented a client certificate the edge verified. */
export function clientCertificate(fingerprintHex: string, verified = "SUCCESS"): Record<string, unknown> {
  return { tlsClientAuth: { certPresented: "1", certVerified: verified, certFingerprintSHA256: fingerprintHex } };
}

/** RFC 8705 `x5t#S256` of a certificate whose SHA-256 fingerprint is `fingerprintHex`. */
export function x5tS256(fingerprintHex: string): string {
  return base64url(Uint8Array.from(fingerprintHex.match(/../g)!.map((pair) => parseInt(pair, 16))));
}

// --- signing as the Worker does ----------------------------------------------------------------

export interface MlDsaTestKey {
  kid: string;
  publicKey: Uint8Array;
  sign(input: Uint8Array<ArrayBuffer>): Promise<Uint8Array>;
}

/** An ML-DSA-65 key from a seed (noble, independent of the Worker's WebCrypto path), `kid` = RFC 7638 thumbprint. */
export async function mlDsaKeyFromSeed(seed: Uint8Array): Promise<MlDsaTestKey> {
  const signer = await nobleMlDsa65.signerFromSeed(seed);
  return { kid: await akpThumbprint(signer.publicKey), publicKey: signer.publicKey, sign: (input) => signer.sign(input) };
}

let localKey: Promise<MlDsaTestKey> | undefined;
/** The Worker's local signing key (from `PQC_LOCAL_SEED`). */
export function workerLocalKey(): Promise<MlDsaTestKey> {
  localKey ??= mlDsaKeyFromSeed(fromBase64url(env.PQC_LOCAL_SEED!));
  return localKey;
}

/** The claims the Worker puts into a PQC token for `service`/`operation`, with `overrides` (undefined deletes). */
export function pqcClaims(
  subject: { sub: string; role?: string },
  service = "headyme",
  operation = "sync",
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  const config = testConfig();
  const context = config.pqc.services[service];
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    iss: config.issuer,
    aud: PQC_AUDIENCE,
    sub: subject.sub,
    role: subject.role ?? "user",
    service,
    operation,
    permissions: context?.operations[operation] ?? [],
    iat: now,
    exp: now + config.pqc.tokenTtlSeconds,
    jti: crypto.randomUUID(),
    heady_ctx: { service_id: context?.serviceId ?? "svc-unknown", endpoint: context?.endpoint ?? "https://unknown.test", mtls_cert: null },
    ...overrides,
  };
  for (const [name, value] of Object.entries(overrides)) if (value === undefined) delete claims[name];
  return claims;
}

/** Signs `claims` as a PQC token with `key` (default: the Worker's local key), header overridable. */
export async function signPqc(
  claims: Record<string, unknown>,
  options: { key?: MlDsaTestKey; header?: Record<string, unknown> } = {},
): Promise<string> {
  const key = options.key ?? (await workerLocalKey());
  return forgeJwt({ alg: "ML-DSA-65", typ: PQC_TOKEN_TYP, kid: key.kid, ...options.header }, claims, key.sign);
}
