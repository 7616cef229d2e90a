import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { receiptKey } from "../audit/receipts";
import type { AppEnv } from "../context";
import { assertionPublicJwk } from "../gateway/assertion";
import { nodeTokenPublicJwk } from "../mesh/node-token-keys";
import { publishedOAuthJwks } from "../oauth/signing-keys";
import { publishedPqcJwks } from "../pqc/keyring";
import { Jwks } from "../pqc/schemas";

export const wellKnownRoutes = new OpenAPIHono<AppEnv>();

wellKnownRoutes.openapi(
  createRoute({
    method: "get",
    path: "/.well-known/jwks.json",
    tags: ["Keys"],
    summary: "Every public key, by kid",
    description:
      "ML-DSA-65 PQC keys as `kty: AKP` JWKs (RFC 9964: the current key first, and after a rotation the previous key until its overlap ends), the Ed25519 receipt key as an `OKP` JWK, the SAGE node-token key as an `RSA` JWK and the gateway's assertion key as an `OKP` JWK marked `token_typ: assertion+jwt`, the OAuth provider's signing keys (`RSA` RS256, `EC` ES256, `OKP` EdDSA: the next, active and retiring keys of `OIDC_SIGNING_KEYS`, docs/oauth.md), each with its RFC 7638 thumbprint as `kid`.",
    responses: {
      200: { description: "JWK Set", content: { "application/json": { schema: Jwks } } },
      503: { description: "The signer's public key could not be fetched" },
    },
  }),
  async (c) => {
    // A KMS that cannot give its public key is a KmsUnavailableError: the error handler's 503.
    // During a rotation's overlap both PQC keys are published, the current one first.
    const pqc = await publishedPqcJwks(c.get("config"), c.env);
    const receipts = (await receiptKey(c.get("config"))).jwk;
    const sage = await nodeTokenPublicJwk(c.get("config"));
    const assertion = await assertionPublicJwk(c.get("config"));
    c.header("Cache-Control", "public, max-age=300");
    const oauth = await publishedOAuthJwks(c.get("config"));
    const keys = [...pqc, receipts, ...(sage ? [sage] : []), ...(assertion ? [assertion] : []), ...oauth];
    return c.json({ keys }, 200);
  },
);
