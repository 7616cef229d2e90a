import { TokenError } from "../crypto/jwt";
import type { Database } from "../db/client";
import type { Config } from "../env";
import type { MeshAuditEvent } from "./audit-events";
import { claimSocketQuery, type LiveSocketsOf, releaseSocket, type SocketSlot, sweepStaleSockets } from "./connections";
import { CLOSE_CODES } from "./frames";
import { standingOf, tokenStandingQuery } from "./node-registry";
import { isNodeId, permissionsOf, verifyNodeToken } from "./node-token";
import { isMeshRole, type MeshRole, type TopicPermissions, topicAccess } from "./permissions";
import { type AdmittedNode, fitsInAttachment } from "./socket-state";
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
  /** Sent as the close reason: short, fixed phrases that reveal nothing about keys. */
  reason: string;
  /** 1008 (policy) unless said otherwise: a node at its socket cap may try again later (1013). */
  closeCode: number;
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

/** A stub node may do anything: stub mode is "no authentication" (`PULSE_AUTH_MODE` in docs/configuration.md). */
const STUB_PERMISSIONS: TopicPermissions = { allow: [">"], listen: [], deny: [] };
const STUB_DEFAULT_ROLE: MeshRole = "ui";

const refuse = (
  reason: string,
  detail: string,
  event: MeshAuditEvent = "unauthorized_access",
  nodeId?: string,
  closeCode: number = CLOSE_CODES.policy,
): Admission => ({
  refused: { reason, closeCode, event, nodeId, detail },
});

/**
 * A row claimed this recently may belong to a connect still being handed to its topic object,
 * so a sweep leaves it alone even though no object holds its socket yet.
 */
export const SOCKET_HANDOFF_GRACE_MS = 10_000;

export interface AdmissionOptions {
  now?: number;
  /**
   * Asks a topic object which of the node's sockets it holds; with it, a node at its cap has the
   * rows of sockets the runtime dropped without a close event swept, and its connect tried again.
   */
  liveSocketsOf?: LiveSocketsOf;
}

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
      socketId: crypto.randomUUID(),
    },
  };
}

/**
 * Decides a connect in the Worker, before any topic object wakes: Origin, topic name, auth mode,
 * token signature and claims, topic permission, and, in D1, the node's socket cap and whether the
 * token still stands. The socket's row is claimed before revocation is read, in one batch, so
 * that a revocation committed after this check is certain to see the row and reach the topic
 * object. A refused connect leaves no row behind.
 */
export async function admitNode(
  config: Config,
  db: Database,
  cache: KVNamespace,
  attempt: ConnectAttempt,
  options: AdmissionOptions = {},
): Promise<Admission> {
  const now = options.now ?? Date.now();
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
    socketId: crypto.randomUUID(),
  };
  if (!fitsInAttachment(admitted)) {
    return refuse("token too large", "attachment_too_large", "unauthorized_access", claims.node_id);
  }

  const slot: SocketSlot = {
    socketId: admitted.socketId,
    nodeId: claims.node_id,
    jti: claims.jti,
    topic: attempt.topic,
    connectedAt: now,
    expiresAt: claims.exp * 1000,
  };
  const cap = config.mesh.maxSocketsPerNode;
  const claimAndCheck = async () => {
    const [claimed, rows] = await db.batch([claimSocketQuery(db, slot, cap), tokenStandingQuery(db, claims.jti)]);
    return { claimed: claimed.length > 0, standing: standingOf(rows[0], claims) };
  };
  let { claimed, standing } = await claimAndCheck();
  if (!claimed && standing === "valid" && options.liveSocketsOf) {
    // Both read again: a revocation may have landed between the two batches.
    if ((await sweepStaleSockets(db, claims.node_id, options.liveSocketsOf, now - SOCKET_HANDOFF_GRACE_MS)) > 0)
      ({ claimed, standing } = await claimAndCheck());
  }
  if (standing !== "valid") {
    if (claimed) await releaseSocket(db, slot.socketId);
    return standing === "revoked"
      ? refuse("token revoked", "revoked", "unauthorized_access", claims.node_id)
      : refuse("invalid token", "unknown_jti", "unauthorized_access", claims.node_id);
  }
  if (!claimed) {
    return refuse("too many sockets for this node", `socket_cap ${cap}`, "unauthorized_access", claims.node_id, CLOSE_CODES.tryAgainLater);
  }
  return { admitted };
}
