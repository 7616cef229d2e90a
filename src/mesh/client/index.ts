/** The PulseMesh client SDK, for browsers and Node: request a node token, connect, refresh, reconnect. */
export { PulseAuth, PulseAuthError, type PulseAuthOptions, type PulseCredential } from "./pulse-auth";
export {
  PulseTransport,
  type MeshErrorFrame,
  type Pulse,
  type PulseTransportOptions,
  type TransportStatus,
  type WebSocketFactory,
  type WebSocketLike,
} from "./pulse-transport";
export { fullJitterDelay, DEFAULT_BACKOFF, type BackoffOptions } from "./backoff";
export type { MeshRole, TopicPermissions } from "../permissions";
