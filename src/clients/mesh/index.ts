/** The PulseMesh client SDK, for browsers and Node: request a node token, connect, refresh, reconnect. */

export type { MeshRole, TopicPermissions } from "../../mesh/permissions";
export { PulseAuth, PulseAuthError, type PulseAuthOptions, type PulseCredential } from "./auth";
export { type BackoffOptions, DEFAULT_BACKOFF, fullJitterDelay } from "./backoff";
export {
  type MeshErrorFrame,
  type Pulse,
  PulseTransport,
  type PulseTransportOptions,
  type TransportStatus,
  type WebSocketFactory,
  type WebSocketLike,
} from "./transport";
