import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { fromBase64Url } from "../../src/crypto/encoding";
import { TokenError } from "../../src/crypto/jwt";
import { rs256KeyPairFromPkcs8 } from "../../src/crypto/rsa";
import { loadConfig } from "../../src/env";
import { issueNodeToken, verifyNodeToken } from "../../src/mesh/node-token";
import { nodeTokenPublicJwk, nodeTokenSigningKey } from "../../src/mesh/node-token-keys";
import { issuePqcToken } from "../../src/pqc/token";
import { testConfig } from "../support/config";
import { base64url } from "../support/encoding";
import { decodePayload, flipSignatureByte, forgeJwt } from "../support/tokens";

const permissions = { allow: ["mirror.intent"], listen: ["mirror.>"], deny: [] };
const request = { nodeId: "mirror", role: "ui" as const, permissions };

async function refusal(token: string, config = testConfig()): Promise<string> {
  try {
    await verifyNodeToken(config, env.CACHE, token);
  } catch (error) {
    if (error instanceof TokenError) return error.reason;
    throw error;
  }
  throw new Error("the token verified");
}

describe("node tokens (RS256)", () => {
  it("round-trips: the claims that were signed are the claims that verify", async () => {
    const { token, claims } = await issueNodeToken(testConfig(), request);
    expect(await verifyNodeToken(testConfig(), env.CACHE, token)).toEqual(claims);
    expect(claims).not.toHaveProperty("denied_topics");
  });

  it("starts iat no earlier than notBeforeSeconds (a token right after a node revocation)", async () => {
    const now = Math.floor(Date.now() / 1000);
    const { claims } = await issueNodeToken(testConfig(), { ...request, notBeforeSeconds: now + 1, ttlSeconds: 60 });
    expect(claims.iat).toBe(now + 1);
    expect(claims.exp).toBe(now + 61);
  });

  it("signs with the key whose public half the JWKS publishes", async () => {
    const { token } = await issueNodeToken(testConfig(), request);
    const jwk = (await nodeTokenPublicJwk(testConfig()))!;
    const header = JSON.parse(new TextDecoder().decode(fromBase64Url(token.split(".")[0]!)));
    expect(header).toEqual({ alg: "RS256", typ: "mesh+jwt", kid: jwk.kid });
  });

  it.each([
    ["a flipped signature bit", (token: string) => flipSignatureByte(token, 5), "bad_signature"],
    ["a truncated token", (token: string) => token.split(".").slice(0, 2).join("."), "malformed"],
  ])("refuses %s", async (_, mangle, reason) => {
    const { token } = await issueNodeToken(testConfig(), request);
    expect(await refusal(mangle(token))).toBe(reason);
  });

  it("refuses a token signed by another RSA key under the same kid", async () => {
    const { token } = await issueNodeToken(testConfig(), request);
    const pair = (await crypto.subtle.generateKey(
      { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
      true,
      ["sign", "verify"],
    )) as CryptoKeyPair;
    const other = await rs256KeyPairFromPkcs8(new Uint8Array((await crypto.subtle.exportKey("pkcs8", pair.privateKey)) as ArrayBuffer));
    const header = JSON.parse(new TextDecoder().decode(fromBase64Url(token.split(".")[0]!)));
    const forged = await forgeJwt(header, decodePayload(token), (input) => other.signingKey.sign(input));
    expect(await refusal(forged)).toBe("bad_signature");
  });

  it("refuses claims of the wrong shape even when properly signed", async () => {
    const config = testConfig();
    const bad = async (claims: Record<string, unknown>) => {
      const { token } = await issueNodeToken(config, request);
      const header = JSON.parse(new TextDecoder().decode(fromBase64Url(token.split(".")[0]!)));
      const key = await nodeTokenSigningKey(config);
      return forgeJwt(header, { ...decodePayload(token), ...claims }, (input) => key.sign(input));
    };
    expect(await refusal(await bad({ role: "admin" }))).toBe("bad_claims");
    expect(await refusal(await bad({ node_id: "../x" }))).toBe("bad_claims");
    expect(await refusal(await bad({ allowed_topics: ["mirror.in*"] }))).toBe("bad_claims");
    expect(await refusal(await bad({ denied_topics: "mirror.>" }))).toBe("bad_claims");
    expect(await refusal(await bad({ aud: "heady-api" }))).toBe("wrong_aud");
  });

  it("is a different kind from PQC tokens: neither passes as the other", async () => {
    const config = testConfig();
    const service = config.pqc.services.headyme!;
    const { token: pqc } = await issuePqcToken(config, { subject: "u", role: "user", serviceName: "headyme", service, operation: "sync" });
    expect(await refusal(pqc)).toBe("wrong_typ");
  });
});

describe("node tokens (ML-DSA-65, by config)", () => {
  const pqcConfig = () => loadConfig({ ...env, SAGE_TOKEN_ALG: "ML-DSA-65" });

  it("signs with the PQC signer and verifies by its kid", async () => {
    const config = pqcConfig();
    const { token, claims } = await issueNodeToken(config, request);
    const header = JSON.parse(new TextDecoder().decode(fromBase64Url(token.split(".")[0]!)));
    expect(header).toMatchObject({ alg: "ML-DSA-65", typ: "mesh+jwt" });
    expect(await verifyNodeToken(config, env.CACHE, token)).toEqual(claims);
  });

  it("a kid that is no thumbprint is refused before the keyring (and KV) sees it, in either mode", async () => {
    const { token } = await issueNodeToken(pqcConfig(), request);
    const [header, payload, signature] = token.split(".") as [string, string, string];
    const decoded = JSON.parse(new TextDecoder().decode(fromBase64Url(header)));
    const longKid = `${base64url(JSON.stringify({ ...decoded, kid: "k".repeat(600) }))}.${payload}.${signature}`;
    expect(await refusal(longKid, pqcConfig())).toBe("malformed_kid");
    expect(await refusal(longKid, testConfig())).toBe("malformed_kid");
  });

  it("accepts only the configured algorithm: RS256 tokens fail in ML-DSA mode and the reverse", async () => {
    const { token: rsa } = await issueNodeToken(testConfig(), request);
    const { token: pqc } = await issueNodeToken(pqcConfig(), request);
    expect(await refusal(rsa, pqcConfig())).toBe("unknown_kid");
    expect(await refusal(pqc, testConfig())).toBe("unknown_kid");
  });
});
