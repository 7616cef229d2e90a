import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { recordWithReceiptHeader } from "../audit/receipt-header";
import type { AppEnv } from "../context";
import { verifiedClientCertificate } from "../credentials/client-certificate";
import { verifyCredential } from "../credentials/readers";
import { assertCredentialAccepted, ROUTE_CREDENTIALS } from "../credentials/route-credentials";
import { ApiError } from "../errors";
import { type Role, roleAtLeast } from "../identity/roles";
import { countMetric, observeMetric } from "../metrics/batch";
import { validationHook } from "../middleware/validation";
import { recordPqcSigningKey, refuseRetiredSigningKey } from "../pqc/keyring";
import { createReference } from "../pqc/references";
import { PqcReferenceIssued, PqcTokenIssued, RequestPqcTokenBody } from "../pqc/schemas";
import { findServiceOperation } from "../pqc/services";
import { issuePqcToken } from "../pqc/token";
import { consumeRateLimit, PQC_ISSUE_PER_CALLER } from "../rate-limit/limits";
import { errorResponses, jsonBody } from "../schemas/common";

export const pqcRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

interface Caller {
  subject: string;
  role: Role;
  /** Scopes, for API keys; undefined for people, who act with their role. */
  scopes?: string[];
  /** Only a certificate vouches for this caller. */
  certificateOnly: boolean;
}

/** The caller: an access token, API key or session, or failing those a verified client certificate. */
async function identifyCaller(c: Context<AppEnv>, certificate: string | undefined): Promise<Caller> {
  const principal = await verifyCredential(c, ROUTE_CREDENTIALS.pqcIssue.state);
  if (principal) {
    assertCredentialAccepted(ROUTE_CREDENTIALS.pqcIssue, principal);
    return {
      subject: principal.userId,
      role: principal.role,
      scopes: principal.kind === "api_key" ? principal.scopes : undefined,
      certificateOnly: false,
    };
  }
  if (certificate) return { subject: `cert:${certificate}`, role: "guest", certificateOnly: true };
  throw new ApiError("unauthorized", "Authenticate with an access token, an API key or a client certificate.", {
    "WWW-Authenticate": 'Bearer realm="heady"',
  });
}

pqcRoutes.openapi(
  createRoute({
    method: "post",
    path: "/request-pqc-token",
    tags: ["Post-quantum tokens"],
    summary: "Issue a 5-minute ML-DSA-65 token for one service operation",
    description:
      "The caller is authenticated by access token, API key (which needs scope `pqc` or `pqc:<service>`), or an mTLS client certificate verified at the edge (for services that allow it). With a certificate the token is bound to it (`cnf.x5t#S256`). With `reference: true` the answer is a 32-byte reference that resolves to the token while it is valid. KMS trouble is a 503; a token is never signed another way.",
    request: { body: jsonBody(RequestPqcTokenBody) },
    responses: {
      200: {
        description: "A token, or a reference to one",
        content: { "application/json": { schema: PqcTokenIssued.or(PqcReferenceIssued) } },
      },
      ...errorResponses(400, 401, 403, 429),
      503: { description: "The signer (KMS) is unavailable, or its key was retired by a rotation (`misconfigured`)" },
    },
  }),
  async (c) => {
    const body = c.req.valid("json");
    const config = c.get("config");
    const certificate = verifiedClientCertificate(c.req.raw);
    const caller = await identifyCaller(c, certificate);

    const found = findServiceOperation(config.pqc.services, body.service, body.operation);
    if (!found) throw new ApiError("invalid_request", `Unknown service operation ${body.service}/${body.operation}.`);
    const { service } = found;
    if (caller.certificateOnly ? !service.allowMtls : !roleAtLeast(caller.role, service.minRole)) {
      throw new ApiError("forbidden", `${body.service}/${body.operation} requires the ${service.minRole} role or higher.`);
    }
    if (caller.scopes && !caller.scopes.includes("pqc") && !caller.scopes.includes(`pqc:${body.service}`)) {
      throw new ApiError("forbidden", `This API key needs scope pqc or pqc:${body.service}.`);
    }
    await consumeRateLimit(c.env, PQC_ISSUE_PER_CALLER, caller.subject);

    // KMS trouble is a KmsUnavailableError, which the error handler answers with 503.
    const { token, claims } = await issuePqcToken(config, {
      subject: caller.subject,
      role: caller.role,
      serviceName: body.service,
      service,
      operation: body.operation,
      certificateThumbprint: certificate,
    });
    await refuseRetiredSigningKey(c.env, token);
    c.executionCtx.waitUntil(recordPqcSigningKey(config, c.env));
    countMetric("heady_pqc_tokens_generated_total", { service: body.service, operation: body.operation });
    observeMetric("heady_pqc_token_size_bytes", {}, token.length);
    await recordWithReceiptHeader(c, {
      type: "pqc.token_issued",
      subject: caller.subject,
      details: { service: body.service, operation: body.operation, jti: claims.jti, reference: !!body.reference, bound: !!claims.cnf },
    });
    const expiresIn = claims.exp - claims.iat;
    if (body.reference) {
      return c.json({ reference: await createReference(c.get("db"), token, claims), expiresIn }, 200);
    }
    return c.json({ pqcToken: token, expiresIn, service: body.service, operation: body.operation }, 200);
  },
);
