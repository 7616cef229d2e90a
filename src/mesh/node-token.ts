import { type JwtClaims, signJwt, THUMBPRINT_KID, TokenError, verifyJwt } from "../crypto/jwt";
import type { Config } from "../env";
import { NODE_TOKEN_MAX_TTL_SECONDS } from "./config";
import { nodeTokenSigningKey, nodeTokenVerificationKey } from "./node-token-keys";
import { isMeshRole, type MeshRole, type TopicPermissions } from "./permissions";
import { topicPatternProblem } from "./topics";

/** Node tokens: `typ: mesh+jwt`, audience `heady-mesh`, signed by SAGE (RS256, or ML-DSA-65 by config). */
export const NODE_TOKEN_TYP = "mesh+jwt";
export const NODE_TOKEN_AUDIENCE = "heady-mesh";

/** Node ids name sockets (`node:<id>` tags) and log lines: short, printable, no separators of ours. */
const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** Whether `value` is a valid node id. */
export const isNodeId = (value: unknown): value is string => typeof value === "string" && NODE_ID.test(value);
export const NODE_ID_RULE = "1 to 64 characters of A-Z, a-z, 0-9, _, . and -, starting with a letter or digit";

export interface NodeClaims extends JwtClaims {
  node_id: string;
  role: MeshRole;
  /** Emit and listen (docs/mesh.md lists the node token's claims). */
  allowed_topics: string[];
  /** Listen only; omitted when empty. */
  listen_topics?: string[];
  /** Neither, winning over both; omitted when empty. */
  denied_topics?: string[];
  jti: string;
}

export interface NodeTokenRequest {
  nodeId: string;
  role: MeshRole;
  permissions: TopicPermissions;
  /** Defaults to `SAGE_TOKEN_TTL_SECONDS`. */
  ttlSeconds?: number;
  /** `iat` is at least this (see `issueNodeToken`). */
  notBeforeSeconds?: number;
}

/** The permissions a verified token carries. */
export function permissionsOf(claims: Pick<NodeClaims, "allowed_topics" | "listen_topics" | "denied_topics">): TopicPermissions {
  return { allow: claims.allowed_topics, listen: claims.listen_topics ?? [], deny: claims.denied_topics ?? [] };
}

/**
 * Signs a node token. A node revocation kills every token with `iat` up to the revocation's
 * second, so the caller passes that second plus one as `notBeforeSeconds`: a token issued
 * right after a revocation is then not killed by it (the `iat` is at most 1 s ahead, well
 * inside every verifier's clock skew).
 */
export async function issueNodeToken(config: Config, request: NodeTokenRequest): Promise<{ token: string; claims: NodeClaims }> {
  const iat = Math.max(Math.floor(Date.now() / 1000), request.notBeforeSeconds ?? 0);
  const { allow, listen, deny } = request.permissions;
  const claims: NodeClaims = {
    iss: config.issuer,
    aud: NODE_TOKEN_AUDIENCE,
    node_id: request.nodeId,
    role: request.role,
    allowed_topics: allow,
    ...(listen.length ? { listen_topics: listen } : {}),
    ...(deny.length ? { denied_topics: deny } : {}),
    iat,
    exp: iat + (request.ttlSeconds ?? config.mesh.tokenTtlSeconds),
    jti: crypto.randomUUID(),
  };
  const token = await signJwt(claims, await nodeTokenSigningKey(config), NODE_TOKEN_TYP);
  return { token, claims };
}

const isPatternList = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((entry) => typeof entry === "string" && topicPatternProblem(entry) === undefined);

/** Verifies a node token (signature by exact `kid`, `typ`, `iss`, `aud`, `exp`) and the shape of its claims. */
export async function verifyNodeToken(config: Config, cache: KVNamespace, token: string): Promise<NodeClaims> {
  const claims = await verifyJwt(token, {
    typ: NODE_TOKEN_TYP,
    issuer: config.issuer,
    audience: NODE_TOKEN_AUDIENCE,
    // RS256 and ML-DSA-65 keys alike are named by their RFC 7638 thumbprint.
    kidPattern: THUMBPRINT_KID,
    key: (kid) => nodeTokenVerificationKey(config, cache, kid),
    requiredClaims: ["node_id", "role", "allowed_topics", "jti"],
    maxLifetimeSeconds: NODE_TOKEN_MAX_TTL_SECONDS,
  });
  const { node_id, role, allowed_topics, listen_topics, denied_topics, jti } = claims;
  if (
    !isNodeId(node_id) ||
    !isMeshRole(role) ||
    !isPatternList(allowed_topics) ||
    (listen_topics !== undefined && !isPatternList(listen_topics)) ||
    (denied_topics !== undefined && !isPatternList(denied_topics)) ||
    typeof jti !== "string" ||
    jti.length > 64
  ) {
    throw new TokenError("bad_claims");
  }
  return claims as NodeClaims;
}
