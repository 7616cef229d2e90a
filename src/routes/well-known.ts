import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../context";
import { ApiError } from "../errors";
import { currentPqcJwk } from "../pqc/keyring";
import { KmsUnavailableError } from "../pqc/kms-client";
import { Jwks } from "../schemas/pqc";

export const wellKnownRoutes = new OpenAPIHono<AppEnv>();

wellKnownRoutes.openapi(
  createRoute({
    method: "get",
    path: "/.well-known/jwks.json",
    tags: ["Keys"],
    summary: "Every public key, by kid",
    description: "ML-DSA-65 keys as `kty: AKP` JWKs (RFC 9964) whose `kid` is the RFC 7638 thumbprint.",
    responses: {
      200: { description: "JWK Set", content: { "application/json": { schema: Jwks } } },
      503: { description: "The signer's public key could not be fetched" },
    },
  }),
  async (c) => {
    let pqc;
    try {
      pqc = await currentPqcJwk(c.get("config"), c.env.CACHE);
    } catch (error) {
      if (error instanceof KmsUnavailableError) {
        throw new ApiError("unavailable", "The signing key could not be fetched; try again shortly.", { "Retry-After": "5" });
      }
      throw error;
    }
    c.header("Cache-Control", "public, max-age=300");
    return c.json({ keys: [pqc] }, 200);
  },
);
