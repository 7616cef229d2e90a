/** The PulseMesh client SDK, for browsers and Node: request a node token, connect, refresh, reconnect. */

export type { MeshRole, TopicPermissions } from "../permissions";
export { type BackoffOptions, DEFAULT_BACKOFF, fullJitterDelay } from "./backoff";
export { PulseAuth, PulseAuthError, type PulseAuthOptions, type PulseCredential } from "./pulse-auth";
export {
  type MeshErrorFrame,
  type Pulse,
  PulseTransport,
  type PulseTransportOptions,
  type TransportStatus,
  type WebSocketFactory,
  type WebSocketLike,
} from "./pulse-transport";
