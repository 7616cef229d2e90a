import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { createMiddleware } from "hono/factory";
import { BOOTSTRAP_SCOPE } from "../api-keys/scopes";
import { recordWithReceiptHeader } from "../audit/receipt-header";
import type { AppEnv } from "../context";
import type { Principal } from "../credentials/principal";
import { ROUTE_CREDENTIALS } from "../credentials/route-credentials";
import { ApiError } from "../errors";
import { roleAtLeast } from "../identity/roles";
import { meshAuditEvent } from "../mesh/audit-events";
import { topicsOfNode } from "../mesh/connections";
import { nodeRevokedBefore, registerNodeToken, revokeNode, revokeToken } from "../mesh/node-registry";
import { issueNodeToken } from "../mesh/node-token";
import { type MeshRole, nodePermissions, PERMISSIONS_MAX_BYTES, permissionsSize } from "../mesh/permissions";
import type { RevocationNotice } from "../mesh/revocation-list";
import { IssueNodeTokenBody, NodeRevoked, NodeTokenIssued, RevokeNodeBody, topicChanges } from "../mesh/schemas";
import { topicObject } from "../mesh/topic-object";
import { authenticate } from "../middleware/authenticate";
import { requireRole } from "../middleware/require-role";
import { validationHook } from "../middleware/validation";
import { recordPqcSigningKey, refuseRetiredSigningKey } from "../pqc/keyring";
import { consumeRateLimit, type TokenBucketRule } from "../rate-limit/limits";
import { errorResponses, jsonBody } from "../schemas/common";

export const nodeTokenRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

const TAG = ["PulseMesh"];

/**
 * Node token issuance per bootstrap key (per session for people): a fleet restarting at once
 * takes a burst of 300 tokens, then 300 a minute, so 1,000 nodes under one key are all served
 * within about 2.5 minutes (docs/mesh.md), while a leaked key still mints at most that.
 */
export const NODE_TOKEN_ISSUE_PER_CALLER: TokenBucketRule = { name: "sage-issue", burst: 300, perMinute: 300 };

/** Whose bucket an issuance takes from: the API key's own, or the session's. */
function issuerKey(principal: Principal): string {
  if (principal.kind === "api_key") return `key:${principal.keyId}`;
  if (principal.kind === "access_token" || principal.kind === "session_cookie") return `session:${principal.sessionId}`;
  return `user:${principal.userId}`; // not reached: ROUTE_CREDENTIALS.nodeTokens admits no other kind
}

/** The mesh roles a bootstrap key may ask for; undefined when the principal holds no bootstrap key. */
function bootstrapRoles(principal: Principal): "any" | Set<string> | undefined {
  if (principal.kind !== "api_key") return undefined;
  if (principal.scopes.includes(BOOTSTRAP_SCOPE)) return "any";
  const roles = principal.scopes
    .filter((scope) => scope.startsWith(`${BOOTSTRAP_SCOPE}:`))
    .map((scope) => scope.slice(BOOTSTRAP_SCOPE.length + 1));
  return roles.length > 0 ? new Set(roles) : undefined;
}

/**
 * Operators and admins by session; an API key only with a bootstrap scope (its role then decides
 * whether it may also widen topics). A PQC token never: ROUTE_CREDENTIALS.nodeTokens.
 */
function requireNodeTokenIssuer() {
  const verify = authenticate(ROUTE_CREDENTIALS.nodeTokens);
  return createMiddleware<AppEnv>(async function requireNodeTokenIssuer(c, next) {
    await verify(c, async () => {
      const principal = c.get("principal");
      if (principal.kind === "api_key" && bootstrapRoles(principal) === undefined) {
        throw new ApiError("forbidden", `An API key obtains node tokens only with scope ${BOOTSTRAP_SCOPE} or ${BOOTSTRAP_SCOPE}:<role>.`);
      }
      if (principal.kind !== "api_key" && !roleAtLeast(principal.role, "operator")) {
        throw new ApiError("forbidden", `Node tokens are issued to operators and admins, or to an API key with scope ${BOOTSTRAP_SCOPE}.`);
      }
      await next();
    });
  });
}

nodeTokenRoutes.openapi(
  createRoute({
    method: "post",
    path: "/token",
    tags: TAG,
    summary: "Issue a node token (SAGE)",
    description: [
      "A JWT (`typ: mesh+jwt`, RS256 by default) with `node_id`, `role`, `allowed_topics` (emit and listen), `listen_topics` and `denied_topics` (when any), `iat`, `exp`, `iss`, `aud: heady-mesh` and `jti`.",
      "The role's defaults (MESH_ROLE_TOPICS) are the starting point: `topics.allow` and `topics.listen` add to them (operators and admins only), `topics.deny` narrows them and always wins.",
      `Callers: operators and admins by session, or an API key with scope \`${BOOTSTRAP_SCOPE}\` (any mesh role) or \`${BOOTSTRAP_SCOPE}:<role>\`; such a key may only narrow, unless its own role is operator or above.`,
      "A token issued right after a node revocation is not covered by it.",
    ].join(" "),
    middleware: [requireNodeTokenIssuer()] as const,
    request: { body: jsonBody(IssueNodeTokenBody) },
    responses: {
      200: { description: "The node token", content: { "application/json": { schema: NodeTokenIssued } } },
      ...errorResponses(400, 401, 403, 429),
      503: { description: "The signer (KMS, in ML-DSA-65 mode) is unavailable" },
    },
  }),
  async (c) => {
    const body = c.req.valid("json");
    const config = c.get("config");
    const principal = c.get("principal");
    const role: MeshRole = body.role;
    const topics = topicChanges(body.topics);

    const keyRoles = bootstrapRoles(principal);
    const viaBootstrapKey = keyRoles !== undefined && !roleAtLeast(principal.role, "operator");
    if (viaBootstrapKey) {
      if (keyRoles !== "any" && !keyRoles.has(role)) throw new ApiError("forbidden", `This API key may not request the ${role} role.`);
      if (topics?.allow?.length || topics?.listen?.length) {
        throw new ApiError("forbidden", "A bootstrap key may only narrow a role's topics (topics.deny); adding topics needs an operator.");
      }
    }
    const ttlSeconds = body.ttlSeconds ?? config.mesh.tokenTtlSeconds;
    if (ttlSeconds > config.mesh.tokenTtlSeconds) {
      throw new ApiError("invalid_request", `ttlSeconds: at most ${config.mesh.tokenTtlSeconds} (SAGE_TOKEN_TTL_SECONDS).`);
    }
    const permissions = nodePermissions(config.mesh.roleTopics[role], topics);
    if (permissionsSize(permissions) > PERMISSIONS_MAX_BYTES) {
      throw new ApiError("invalid_request", `topics: the node's patterns may take at most ${PERMISSIONS_MAX_BYTES} bytes in all.`);
    }
    await consumeRateLimit(c.env, NODE_TOKEN_ISSUE_PER_CALLER, issuerKey(principal));

    const db = c.get("db");
    const revokedBefore = await nodeRevokedBefore(db, body.node_id);
    // In ML-DSA-65 mode KMS trouble is a KmsUnavailableError, which the error handler answers with 503.
    const { token, claims } = await issueNodeToken(config, {
      nodeId: body.node_id,
      role,
      permissions,
      ttlSeconds,
      notBeforeSeconds: revokedBefore === undefined ? undefined : revokedBefore + 1,
    });
    if (config.mesh.tokenAlgorithm === "ML-DSA-65") {
      await refuseRetiredSigningKey(c.env, token);
      c.executionCtx.waitUntil(recordPqcSigningKey(config, c.env));
    }
    await registerNodeToken(db, claims, principal.userId);
    await recordWithReceiptHeader(
      c,
      meshAuditEvent("token_issued", {
        nodeId: claims.node_id,
        actor: principal.userId,
        details: {
          role,
          jti: claims.jti,
          exp: claims.exp,
          via: viaBootstrapKey ? "bootstrap_key" : principal.kind,
          ...(principal.kind === "api_key" ? { keyId: principal.keyId } : {}),
          custom: topics ?? null,
        },
      }),
    );
    return c.json({ token, expiresIn: claims.exp - claims.iat, jti: claims.jti }, 200);
  },
);

/** Tells every topic object the node has sockets in; failures are counted, not fatal (D1 already holds the truth). */
async function pushRevocation(c: { env: AppEnv["Bindings"] }, topics: string[], notice: RevocationNotice) {
  const results = await Promise.allSettled(topics.map((topic) => topicObject(c.env, topic).revoke(notice)));
  let socketsClosed = 0;
  let topicsUnreachable = 0;
  for (const result of results) {
    if (result.status === "fulfilled") socketsClosed += result.value.closed;
    else topicsUnreachable += 1;
  }
  return { topicsNotified: topics.length - topicsUnreachable, topicsUnreachable, socketsClosed };
}

nodeTokenRoutes.openapi(
  createRoute({
    method: "post",
    path: "/revoke",
    tags: TAG,
    summary: "Revoke a node, or one node token",
    description:
      "`{node_id}` revokes every token of the node issued until now; `{jti}` revokes one token. The revocation is written to D1 (which every later connect and refresh checks) and pushed to the topic objects the node has sockets in, which close them with 1008 at once. Idempotent.",
    middleware: [requireRole("operator", ROUTE_CREDENTIALS.admin)] as const,
    request: { body: jsonBody(RevokeNodeBody) },
    responses: {
      200: { description: "Revoked", content: { "application/json": { schema: NodeRevoked } } },
      ...errorResponses(400, 401, 403, 404),
    },
  }),
  async (c) => {
    const body = c.req.valid("json");
    const db = c.get("db");
    const actor = c.get("principal").userId;

    let notice: RevocationNotice;
    if ("node_id" in body) {
      const { revokedBefore } = await revokeNode(db, body.node_id, actor);
      notice = { kind: "node", nodeId: body.node_id, revokedBefore };
    } else {
      const token = await revokeToken(db, body.jti);
      if (!token) throw new ApiError("not_found", "SAGE never issued a node token with this jti.");
      notice = { kind: "token", nodeId: token.nodeId, jti: body.jti, expiresAt: token.expiresAt };
    }
    const pushed = await pushRevocation(c, await topicsOfNode(db, notice.nodeId), notice);
    if (pushed.topicsUnreachable > 0) {
      console.error(JSON.stringify({ msg: "revocation push failed", requestId: c.get("requestId"), nodeId: notice.nodeId, ...pushed }));
    }
    await c.get("audit").record(
      meshAuditEvent("revoked", {
        nodeId: notice.nodeId,
        actor,
        details: {
          kind: notice.kind,
          ...(notice.kind === "token" ? { jti: notice.jti } : { revokedBefore: notice.revokedBefore }),
          ...pushed,
        },
      }),
    );
    return c.json(
      { revoked: notice.kind, node_id: notice.nodeId, ...(notice.kind === "token" ? { jti: notice.jti } : {}), ...pushed },
      200,
    );
  },
);
