import { utf8 } from "../crypto/encoding";
import type { MeshRole, TopicPermissions } from "./permissions";

/**
 * What the Worker established about a node before it woke the topic object, and what the object
 * keeps per socket in its attachment, so authorization survives hibernation: no token is
 * re-verified when the object wakes up, and none is kept.
 */
export interface AdmittedNode {
  /** For stub nodes, prefixed `stub:` so they can never pass for a node with a token. */
  nodeId: string;
  role: MeshRole;
  /** Admitted without a token (PULSE_AUTH_MODE stub or dual). */
  stub: boolean;
  /** The token's `jti`, `iat` and `exp` (Unix seconds); a stub node has no token and no expiry. */
  jti: string | null;
  iat: number;
  exp: number | null;
  permissions: TopicPermissions;
  /** When the Worker admitted the socket (ms). */
  connectedAt: number;
  /** The socket's row in `mesh_sockets` (its slot under the node's cap); stub sockets have none there. */
  socketId: string;
}

export interface SocketState extends AdmittedNode {
  subscribed: boolean;
}

/** Attachments hold at most 2,048 bytes once serialised; this leaves room for structured-clone framing. */
export const ATTACHMENT_MAX_BYTES = 2000;

export class AttachmentTooLargeError extends Error {
  override name = "AttachmentTooLargeError";
}

/** Whether a node's state fits in a socket attachment (checked before the object is woken). */
export function fitsInAttachment(node: AdmittedNode): boolean {
  return utf8(JSON.stringify({ ...node, subscribed: true } satisfies SocketState)).length <= ATTACHMENT_MAX_BYTES;
}

/** Writes the state to the socket's attachment, as JSON so that its size is exactly known. */
export function saveSocketState(ws: WebSocket, state: SocketState): void {
  const json = JSON.stringify(state);
  const size = utf8(json).length;
  if (size > ATTACHMENT_MAX_BYTES) throw new AttachmentTooLargeError(`socket state is ${size} bytes, over ${ATTACHMENT_MAX_BYTES}`);
  ws.serializeAttachment(json);
}

/** The socket's state, or undefined for a socket that never got one. */
export function loadSocketState(ws: WebSocket): SocketState | undefined {
  const json: unknown = ws.deserializeAttachment();
  return typeof json === "string" ? (JSON.parse(json) as SocketState) : undefined;
}

/** The tags a socket is accepted with, so the object can find a node's sockets after hibernation. */
export function socketTags(node: Pick<AdmittedNode, "nodeId" | "role">): string[] {
  return [nodeTag(node.nodeId), `role:${node.role}`];
}

/** The tag that finds every socket of a node (`ctx.getWebSockets(nodeTag(id))`). */
export const nodeTag = (nodeId: string) => `node:${nodeId}`;
