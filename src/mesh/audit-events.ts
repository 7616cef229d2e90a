import type { AuthEvent, AuthEventType } from "../audit/event";

/**
 * The mesh's audit events (docs/audit.md), and the ledger types they are recorded as. The mesh's own
 * name for an event always travels in `details.event`, so the trail can be filtered by either.
 */
export type MeshAuditEvent = "token_issued" | "token_verified" | "unauthorized_access" | "token_expired" | "revoked" | "rate_flagged";

const LEDGER_TYPE: Record<MeshAuditEvent, AuthEventType> = {
  token_issued: "mesh.node_token_issued",
  token_verified: "mesh.connected",
  unauthorized_access: "mesh.access_denied",
  // The ledger has no types of their own for these yet; both are refusals of a node's traffic.
  token_expired: "mesh.access_denied",
  rate_flagged: "mesh.access_denied",
  revoked: "mesh.node_revoked",
};

/** How the trail names a node: its id, prefixed so it never reads as a user id. */
export const nodeSubject = (nodeId: string) => `node:${nodeId}`;

/** A mesh event as an audit-seam event about a node. */
export function meshAuditEvent(
  event: MeshAuditEvent,
  fields: { nodeId?: string | undefined; actor?: string | undefined; details?: Record<string, unknown> },
): AuthEvent {
  return {
    type: LEDGER_TYPE[event],
    subject: fields.nodeId === undefined ? undefined : nodeSubject(fields.nodeId),
    actor: fields.actor,
    details: { event, ...fields.details },
  };
}
