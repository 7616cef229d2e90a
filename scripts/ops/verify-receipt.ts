#!/usr/bin/env node
// Offline check of a HeadyKey trust receipt against a JWKS, without the service:
//   npx node scripts/ops/verify-receipt.ts <receipt-jws> <jwks.json file or URL>
// Exits 0 and prints the receipt's claims when the Ed25519 signature verifies, 1 otherwise.
import { createPublicKey, verify } from "node:crypto";
import { readFileSync } from "node:fs";

interface Jwks {
  keys?: { kid?: string; kty?: string; crv?: string; x?: string }[];
}

const [receipt, jwksSource] = process.argv.slice(2);
if (!receipt || !jwksSource) {
  console.error("usage: verify-receipt.ts <receipt-jws> <jwks.json file or URL>");
  process.exit(2);
}

function fail(why: string): never {
  console.error(`INVALID: ${why}`);
  process.exit(1);
}

const jwks: Jwks = /^https?:\/\//.test(jwksSource) ? await (await fetch(jwksSource)).json() : JSON.parse(readFileSync(jwksSource, "utf8"));

const parts = receipt.split(".");
if (parts.length !== 3) fail("not a compact JWS");
const [headerPart = "", payloadPart = "", signaturePart = ""] = parts;
let header: { alg?: unknown; typ?: unknown; kid?: unknown } = {};
let claims: unknown;
try {
  header = JSON.parse(Buffer.from(headerPart, "base64url").toString("utf8"));
  claims = JSON.parse(Buffer.from(payloadPart, "base64url").toString("utf8"));
} catch {
  fail("header or payload is not JSON");
}
// RFC 8725: the algorithm and type are fixed for receipts; nothing in the header picks the key but kid.
if (header.alg !== "EdDSA" || header.typ !== "receipt+jwt") fail(`unexpected alg/typ ${header.alg}/${header.typ}`);
if (Object.keys(header).some((name) => !["alg", "typ", "kid"].includes(name))) fail("unexpected header members");
const jwk = jwks.keys?.find((key) => key.kid === header.kid && key.kty === "OKP" && key.crv === "Ed25519");
if (!jwk) fail(`no Ed25519 key with kid ${header.kid} in the JWKS`);

const publicKey = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: jwk.x }, format: "jwk" });
const ok = verify(null, Buffer.from(`${headerPart}.${payloadPart}`), publicKey, Buffer.from(signaturePart, "base64url"));
if (!ok) fail("the signature does not verify");
console.log(JSON.stringify({ valid: true, kid: header.kid, claims }, null, 2));
