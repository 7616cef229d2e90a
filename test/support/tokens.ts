// Forging JWTs for the security tests. Built by hand, not with jose, so that a test can produce
// exactly the malformed or hostile token it needs (alg none, extra header members, bad bytes).
import { issueAccessToken } from "../../src/credentials/access-token";
import { testConfig } from "./config";
import { base64url, fromBase64url } from "./encoding";
import type { ApiResponse, RequestOptions } from "./http";
import { request } from "./worker";

export type Signer = (signingInput: Uint8Array<ArrayBuffer>) => Promise<Uint8Array>;

/** HMAC-SHA256 with arbitrary key bytes: the real secret, or a public key used as an HMAC secret. */
export function hmacSigner(secret: Uint8Array<ArrayBuffer> | string): Signer {
  const keyBytes = typeof secret === "string" ? (new TextEncoder().encode(secret) as Uint8Array<ArrayBuffer>) : secret;
  return async (input) => {
    const key = await crypto.subtle.importKey("raw", keyBytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    return new Uint8Array(await crypto.subtle.sign("HMAC", key, input));
  };
}

/** An empty signature, as `alg: none` tokens carry. */
export const unsigned: Signer = async () => new Uint8Array(0);

/** Builds a compact JWS from any header and payload, signed by `signer`. */
export async function forgeJwt(
  header: Record<string, unknown>,
  payload: Record<string, unknown> | string,
  signer: Signer,
): Promise<string> {
  const encodedPayload = base64url(typeof payload === "string" ? payload : JSON.stringify(payload));
  const signingInput = `${base64url(JSON.stringify(header))}.${encodedPayload}`;
  const signature = await signer(new TextEncoder().encode(signingInput) as Uint8Array<ArrayBuffer>);
  return `${signingInput}.${base64url(signature)}`;
}

/** Flips one bit of the signature's first byte, keeping the token well-formed. */
export function flipSignatureByte(token: string, index = 0): string {
  const [header, payload, signature = ""] = token.split(".");
  const bytes = fromBase64url(signature);
  bytes[index] = bytes[index]! ^ 0x01;
  return `${header}.${payload}.${base64url(bytes)}`;
}

function decodeSegment(token: string, index: number): Record<string, unknown> {
  return JSON.parse(new TextDecoder().decode(fromBase64url(token.split(".")[index] ?? ""))) as Record<string, unknown>;
}

/** Decodes a compact JWS's protected header without verifying it. */
export function decodeHeader(token: string): Record<string, unknown> {
  return decodeSegment(token, 0);
}

/** Decodes a compact JWS's payload without verifying it. */
export function decodePayload(token: string): Record<string, unknown> {
  return decodeSegment(token, 1);
}

/** The access-token key as the Worker uses it: the `kid` it issues and the HMAC signer of `JWT_SECRET`. */
export async function accessTokenKey(): Promise<{ kid: string; sign: Signer }> {
  const config = testConfig();
  const { token } = await issueAccessToken(config, { userId: "probe", email: "probe@example.test", role: "guest", sessionId: "probe" });
  const kid = decodeHeader(token).kid;
  if (typeof kid !== "string") throw new Error("issued access token carries no kid");
  return { kid, sign: hmacSigner(fromBase64url(config.jwtSecret)) };
}

/** The claims the Worker puts in an access token for this session, with `overrides` applied (undefined deletes). */
export function accessClaims(
  session: { userId: string; email: string; sessionId: string; role?: string },
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  const config = testConfig();
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    iss: config.issuer,
    aud: config.accessTokenAudience,
    sub: session.userId,
    email: session.email,
    role: session.role ?? "user",
    sid: session.sessionId,
    jti: crypto.randomUUID(),
    iat: now,
    exp: now + 600,
    ...overrides,
  };
  for (const [name, value] of Object.entries(overrides)) if (value === undefined) delete claims[name];
  return claims;
}

/** GET /api/auth/verify with whatever credentials `options` carry. */
export const verifyCall = (options: RequestOptions) => request("GET", "/api/auth/verify", options);

/** GET /api/auth/verify with a bearer token. */
export function verifyToken(token: string): Promise<ApiResponse> {
  return verifyCall({ token });
}
