import { utf8ByteLength } from "../crypto/encoding";

/**
 * The PulseMesh wire protocol: JSON text frames with a `type`.
 *
 * A node sends:
 * - `{"type":"pulse","data":…}`: an emit to the topic the socket is connected to;
 * - `{"type":"subscribe"}` / `{"type":"unsubscribe"}`: start or stop receiving the topic's pulses
 *   (a socket starts subscribed; an emit-only node can stop the traffic it does not read);
 * - `{"type":"refresh","token":…}`: a new token for the same node, without reconnecting.
 * Each may carry an `id` (string or number) that the answer echoes.
 *
 * The mesh sends:
 * - `{"type":"pulse","topic","from","data","ts"}` to every other subscribed socket (plus
 *   `"stub":true` when the sender is an unauthenticated stub node);
 * - `{"type":"ack","of":…}` for `connect` (on open: node, role, access, exp), `pulse`
 *   (`delivered`), `subscribe`, `unsubscribe` and `refresh` (the new `exp`);
 * - `{"type":"error","code","message"}` for every refusal.
 *
 * The plain text `ping` is answered `pong` by the runtime itself, without waking the object.
 */
export const PING = "ping";
export const PONG = "pong";

/** The subprotocol a client offers and the server echoes; the token rides in `bearer.<token>`. */
export const MESH_SUBPROTOCOL = "pulse.v1";
export const BEARER_SUBPROTOCOL_PREFIX = "bearer.";

/** Frames larger than this are refused; pulses are signals, not file transfers. */
export const MAX_FRAME_BYTES = 64 * 1024;

/** RFC 6455 close codes the mesh uses. */
export const CLOSE_CODES = {
  /** Policy violation: a permission answer; clients must not reconnect with the same credentials. */
  policy: 1008,
  /** Try again later: rate limiting, when configured to close. */
  tryAgainLater: 1013,
} as const;

/** A close reason may be at most 123 bytes of UTF-8 (RFC 6455 §5.5: 125 minus the code). */
export const MAX_CLOSE_REASON_BYTES = 123;

export type FrameId = string | number;

export type ClientFrame =
  | { type: "pulse"; data: unknown; id?: FrameId }
  | { type: "subscribe"; id?: FrameId }
  | { type: "unsubscribe"; id?: FrameId }
  | { type: "refresh"; token: string; id?: FrameId };

export type ErrorCode = "bad_frame" | "forbidden_topic" | "token_expired" | "token_revoked" | "rate_limited" | "refresh_refused";

export type AckOf = "connect" | "pulse" | "subscribe" | "unsubscribe" | "refresh";

/** A client frame that cannot be read; its message goes back in a `bad_frame` error frame. */
export class FrameError extends Error {
  override name = "FrameError";
}

const isFrameId = (value: unknown): value is FrameId =>
  (typeof value === "string" && value.length <= 64) || (typeof value === "number" && Number.isFinite(value));

/**
 * Whether a frame fits in `MAX_FRAME_BYTES` as it crossed the wire: text in UTF-8 bytes, not
 * UTF-16 units (a unit is 1 to 3 bytes), so the units bound the answer and only frames between
 * a third of the limit and the limit are counted, without encoding them.
 */
function fitsFrameLimit(message: string | ArrayBuffer): boolean {
  if (typeof message !== "string") return message.byteLength <= MAX_FRAME_BYTES;
  if (message.length > MAX_FRAME_BYTES) return false;
  return message.length * 3 <= MAX_FRAME_BYTES || utf8ByteLength(message) <= MAX_FRAME_BYTES;
}

/** Parses one client frame, throwing `FrameError` with a message fit for an error frame. */
export function parseClientFrame(message: string | ArrayBuffer): ClientFrame {
  if (!fitsFrameLimit(message)) throw new FrameError(`A frame may be at most ${MAX_FRAME_BYTES} bytes.`);
  if (typeof message !== "string") throw new FrameError("Frames are JSON text, not binary.");
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch {
    throw new FrameError("A frame must be a JSON object.");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new FrameError("A frame must be a JSON object.");
  const frame = value as Record<string, unknown>;
  if (frame.id !== undefined && !isFrameId(frame.id)) throw new FrameError("`id` must be a string of at most 64 characters or a number.");
  const id = frame.id === undefined ? {} : { id: frame.id as FrameId };
  switch (frame.type) {
    case "pulse":
      return { type: "pulse", data: frame.data ?? null, ...id };
    case "subscribe":
    case "unsubscribe":
      return { type: frame.type, ...id };
    case "refresh":
      if (typeof frame.token !== "string" || frame.token.length === 0) throw new FrameError("A refresh frame carries the new `token`.");
      return { type: "refresh", token: frame.token, ...id };
    default:
      throw new FrameError("`type` must be pulse, subscribe, unsubscribe or refresh.");
  }
}

/** The fan-out frame every other subscribed socket receives. */
export function pulseFrame(topic: string, from: string, data: unknown, ts: number, stub: boolean): string {
  return JSON.stringify(stub ? { type: "pulse", topic, from, data, ts, stub: true } : { type: "pulse", topic, from, data, ts });
}

/** An acknowledgement, echoing the client's frame `id` when it sent one. */
export function ackFrame(of: AckOf, fields: Record<string, unknown> = {}, id?: FrameId): string {
  return JSON.stringify({ type: "ack", of, ...fields, ...(id === undefined ? {} : { id }) });
}

/** A refusal, echoing the client's frame `id` when it sent one. */
export function errorFrame(code: ErrorCode, message: string, id?: FrameId): string {
  return JSON.stringify({ type: "error", code, message, ...(id === undefined ? {} : { id }) });
}

/** Cuts a close reason to at most 123 bytes of UTF-8 without splitting a character. */
export function closeReason(text: string): string {
  const encoder = new TextEncoder();
  if (encoder.encode(text).length <= MAX_CLOSE_REASON_BYTES) return text;
  let cut = text;
  while (encoder.encode(`${cut}…`).length > MAX_CLOSE_REASON_BYTES) cut = [...cut].slice(0, -1).join("");
  return `${cut}…`;
}
