import { TokenError } from "../crypto/jwt";
import type { Database } from "../db/client";
import type { Config } from "../env";
import type { MeshAuditEvent } from "./audit-events";
import { recordConnectionQuery } from "./connections";
import { standingOf, tokenStandingQuery } from "./node-registry";
import { isNodeId, permissionsOf, verifyNodeToken } from "./node-token";
import { isMeshRole, topicAccess, type MeshRole, type TopicPermissions } from "./permissions";
import { fitsInAttachment, type AdmittedNode } from "./socket-state";
import { topicNameProblem } from "./topics";

/** What a connect presents, read from the upgrade request by the route. */
export interface ConnectAttempt {
  topic: string;
  /** The Origin header, when the client sent one (browsers always do). */
  origin: string | undefined;
  /** This Worker's own origin, which is always allowed. */
  ownOrigin: string;
  token: string | undefined;
  /** Stub nodes (PULSE_AUTH_MODE stub or dual) name themselves with `?node_id=` and `?role=`. */
  stubNodeId: string | undefined;
  stubRole: string | undefined;
}

export interface Refusal {
  /** Sent as the 1008 close reason: short, fixed phrases that reveal nothing about keys. */
  reason: string;
  event: MeshAuditEvent;
  nodeId?: string | undefined;
  detail: string;
}

export type Admission = { admitted: AdmittedNode } | { refused: Refusal };

/**
 * Whether a refusal goes to the audit trail: only when the token's signature verified (a real
 * node, named, or with an expired token), so that scanners cannot fill the ledger with noise.
 */
export const worthAuditing = (refusal: Refusal): boolean => refusal.nodeId !== undefined || refusal.event === "token_expired";

/** A stub node may do anything: stub mode is "no authentication", as in the spec's phase 1. */
const STUB_PERMISSIONS: TopicPermissions = { allow: [">"], listen: [], deny: [] };
const STUB_DEFAULT_ROLE: MeshRole = "ui";

const refuse = (reason: string, detail: string, event: MeshAuditEvent = "unauthorized_access", nodeId?: string): Admission => ({
  refused: { reason, event, nodeId, detail },
});

function admitStub(attempt: ConnectAttempt, now: number): Admission {
  if (!isNodeId(attempt.stubNodeId)) return refuse("stub nodes need a valid node_id", "stub_without_node_id");
  const role = attempt.stubRole ?? STUB_DEFAULT_ROLE;
  if (!isMeshRole(role)) return refuse("unknown role", "stub_bad_role");
  return {
    admitted: {
      nodeId: `stub:${attempt.stubNodeId}`,
      role,
      stub: true,
      jti: null,
      iat: Math.floor(now / 1000),
      exp: null,
      permissions: STUB_PERMISSIONS,
      connectedAt: now,
    },
  };
}

/**
 * Decides a connect in the Worker, before any topic object wakes: Origin, topic name, auth mode,
 * token signature and claims, topic permission, and, in D1, whether the token still stands.
 * The connection row is written before revocation is read, in one batch, so that a revocation
 * committed after this check is certain to see the row and reach the topic object.
 */
export async function admitNode(config: Config, db: Database, cache: KVNamespace, attempt: ConnectAttempt, now = Date.now()): Promise<Admission> {
  if (attempt.origin !== undefined && attempt.origin !== attempt.ownOrigin && !config.allowedOrigins.has(attempt.origin)) {
    return refuse("origin not allowed", `origin ${attempt.origin.slice(0, 100)}`);
  }
  const topicProblem = topicNameProblem(attempt.topic);
  if (topicProblem) return refuse("invalid topic name", topicProblem);

  const mode = config.mesh.authMode;
  if (mode === "stub" || (mode === "dual" && attempt.token === undefined)) return admitStub(attempt, now);
  if (attempt.token === undefined) return refuse("token required", "no_token");

  let claims;
  try {
    claims = await verifyNodeToken(config, cache, attempt.token);
  } catch (error) {
    if (!(error instanceof TokenError)) throw error;
    return error.reason === "expired" ? refuse("token expired", "expired", "token_expired") : refuse("invalid token", error.reason);
  }
  const permissions = permissionsOf(claims);
  if (topicAccess(permissions, attempt.topic) === "none") {
    return refuse("topic not allowed", `topic ${attempt.topic}`, "unauthorized_access", claims.node_id);
  }
  const admitted: AdmittedNode = {
    nodeId: claims.node_id,
    role: claims.role,
    stub: false,
    jti: claims.jti,
    iat: claims.iat,
    exp: claims.exp,
    permissions,
    connectedAt: now,
  };
  if (!fitsInAttachment(admitted)) {
    return refuse("token too large", "attachment_too_large", "unauthorized_access", claims.node_id);
  }

  const [, rows] = await db.batch([recordConnectionQuery(db, claims.node_id, attempt.topic, now), tokenStandingQuery(db, claims.jti)]);
  const standing = standingOf(rows[0], claims);
  if (standing === "revoked") return refuse("token revoked", "revoked", "unauthorized_access", claims.node_id);
  if (standing === "unknown") return refuse("invalid token", "unknown_jti", "unauthorized_access", claims.node_id);
  return { admitted };
}
