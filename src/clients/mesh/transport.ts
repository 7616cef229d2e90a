import { BEARER_SUBPROTOCOL_PREFIX, CLOSE_CODES, MESH_SUBPROTOCOL } from "../../mesh/frames";
import { type PulseAuth, PulseAuthError } from "./auth";
import { type BackoffOptions, DEFAULT_BACKOFF, fullJitterDelay } from "./backoff";

/** A pulse as the mesh delivers it, with typed `data`. */
export interface Pulse<T> {
  type: "pulse";
  topic: string;
  from: string;
  data: T;
  ts: number;
  /** Sent by an unauthenticated stub node (PULSE_AUTH_MODE dual). */
  stub?: true;
}

export interface MeshErrorFrame {
  type: "error";
  code: string;
  message: string;
  id?: string | number;
}

export type TransportStatus = "connecting" | "open" | "reconnecting" | "closed";

/** The few members of a WebSocket this transport needs: browsers', Node's global one and `ws` all have them. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  // biome-ignore lint/suspicious/noExplicitAny: browsers' and ws's event types differ; each listener narrows what it reads.
  addEventListener(type: "open" | "message" | "close" | "error", listener: (event: any) => void): void;
}

export type WebSocketFactory = (url: string, protocols: string[]) => WebSocketLike;

export interface PulseTransportOptions<T> {
  /** The Worker's base URL (`https://…` or `wss://…`). */
  meshUrl: string;
  topic: string;
  auth: PulseAuth;
  onPulse?: (pulse: Pulse<T>) => void;
  onError?: (frame: MeshErrorFrame) => void;
  onStatus?: (status: TransportStatus, detail?: { code?: number; reason?: string }) => void;
  /** Refresh this long before the token expires; default a fifth of its life, at most 5 minutes. */
  refreshBeforeMs?: number;
  backoff?: BackoffOptions;
  /** Defaults to the global `WebSocket` (browsers, Node 22+). */
  webSocket?: WebSocketFactory;
  random?: () => number;
}

const OPEN = 1;
/** Error codes the mesh sends right before a 1008 close: permission answers, never retried. */
const FINAL_ERRORS = new Set(["token_revoked", "token_expired"]);
const MAX_REFRESH_LEAD_MS = 5 * 60_000;

function defaultWebSocket(): WebSocketFactory {
  const WebSocketClass = (globalThis as unknown as { WebSocket?: new (url: string, protocols: string[]) => WebSocketLike }).WebSocket;
  if (!WebSocketClass) throw new Error("No global WebSocket here; pass `webSocket` (for example from the `ws` package).");
  return (url, protocols) => new WebSocketClass(url, protocols);
}

/**
 * One node's connection to one topic. It connects with the token in the subprotocol, refreshes
 * the token over the open socket before it expires, and reconnects after a drop with full-jitter
 * exponential backoff. It never reconnects after a 1008 close: that is the mesh's answer about
 * permission (revoked, expired, not allowed), and asking again would not change it.
 */
export class PulseTransport<T = unknown> {
  private socket: WebSocketLike | undefined;
  private attempt = 0;
  private stopped = false;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly openSocket: WebSocketFactory;
  /** The caller of `connect()`, until the first connect succeeds or is refused for good. */
  private waiting: { resolve: () => void; reject: (error: Error) => void } | undefined;
  /** How many times the transport has connected (1 after the first connect). */
  connections = 0;
  /** How many refreshes the mesh has acknowledged. */
  refreshes = 0;

  constructor(private readonly options: PulseTransportOptions<T>) {
    this.openSocket = options.webSocket ?? defaultWebSocket();
  }

  /**
   * Connects; resolves once the mesh acknowledged the connect, retrying transient failures with
   * backoff. Rejects only on a permanent answer: a 1008 close, or SAGE refusing the credential.
   */
  connect(): Promise<void> {
    this.stopped = false;
    return new Promise<void>((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.options.onStatus?.("connecting");
      void this.open();
    });
  }

  /** Emits a pulse to the topic. Throws when not connected (pulses are not queued). */
  emit(data: T, id?: string | number): void {
    this.sendFrame({ type: "pulse", data, ...(id === undefined ? {} : { id }) });
  }

  subscribe(): void {
    this.sendFrame({ type: "subscribe" });
  }

  unsubscribe(): void {
    this.sendFrame({ type: "unsubscribe" });
  }

  /** Closes for good: no reconnect. */
  close(): void {
    this.stopped = true;
    this.clearTimers();
    this.socket?.close(1000, "client closed");
    this.socket = undefined;
    this.options.onStatus?.("closed");
  }

  get isOpen(): boolean {
    return this.socket?.readyState === OPEN;
  }

  private sendFrame(frame: Record<string, unknown>): void {
    if (!this.socket || this.socket.readyState !== OPEN) throw new Error("PulseTransport is not connected");
    this.socket.send(JSON.stringify(frame));
  }

  private async open(): Promise<void> {
    let token: string;
    try {
      token = await this.options.auth.freshToken(this.refreshLeadMs());
    } catch (error) {
      // SAGE said no (4xx): asking again will not help. Anything else (network, 5xx): retry.
      if (error instanceof PulseAuthError && error.status >= 400 && error.status < 500) return this.stop(error);
      return this.scheduleReconnect({ code: 0, reason: "token request failed" });
    }
    if (this.stopped) return;
    const url = new URL(`/ws/mesh/${encodeURIComponent(this.options.topic)}`, this.options.meshUrl.replace(/^http/, "ws"));
    const socket = this.openSocket(url.toString(), [MESH_SUBPROTOCOL, `${BEARER_SUBPROTOCOL_PREFIX}${token}`]);
    this.socket = socket;

    socket.addEventListener("message", (event: { data: unknown }) => {
      const frame = parseFrame(event.data);
      if (!frame) return;
      if (frame.type === "ack" && frame.of === "connect") {
        this.attempt = 0;
        this.connections += 1;
        this.scheduleRefresh();
        this.options.onStatus?.("open");
        this.waiting?.resolve();
        this.waiting = undefined;
      } else if (frame.type === "ack" && frame.of === "refresh") {
        this.refreshes += 1;
        this.scheduleRefresh();
      } else if (frame.type === "pulse") {
        this.options.onPulse?.(frame as unknown as Pulse<T>);
      } else if (frame.type === "error") {
        const error = frame as unknown as MeshErrorFrame;
        this.options.onError?.(error);
        // The mesh says why before it closes with 1008; act on it now rather than on the close event,
        // which may come later (the runtime ends the TCP connection when the topic object hibernates).
        if (FINAL_ERRORS.has(error.code)) {
          this.stop(new Error(`mesh closed the socket: ${error.message}`), { code: CLOSE_CODES.policy, reason: error.code });
          socket.close(1000, "done");
        }
      }
    });
    socket.addEventListener("close", (event: { code: number; reason: string }) => {
      if (this.socket === socket) this.socket = undefined;
      this.clearTimers();
      if (this.stopped) return;
      const detail = { code: event.code, reason: event.reason };
      if (event.code === CLOSE_CODES.policy) return this.stop(new Error(`mesh closed the socket: ${event.code} ${event.reason}`), detail);
      this.scheduleReconnect(detail);
    });
    // An error is always followed by a close event, which decides what happens next.
    socket.addEventListener("error", () => undefined);
  }

  /** Stops for good after a permanent refusal. */
  private stop(error: Error, detail?: { code?: number; reason?: string }): void {
    this.stopped = true;
    this.clearTimers();
    this.options.onStatus?.("closed", detail);
    this.waiting?.reject(error);
    this.waiting = undefined;
  }

  private refreshLeadMs(): number {
    if (this.options.refreshBeforeMs !== undefined) return this.options.refreshBeforeMs;
    const lifetime = this.options.auth.lifetimeMs();
    return lifetime === undefined ? 0 : Math.min(MAX_REFRESH_LEAD_MS, lifetime / 5);
  }

  private scheduleRefresh(): void {
    cancel(this.refreshTimer);
    const expiresAt = this.options.auth.expiresAt();
    if (expiresAt === undefined) return;
    const wait = Math.max(0, expiresAt - this.refreshLeadMs() - Date.now());
    this.refreshTimer = setTimeout(() => void this.refreshNow(), wait);
  }

  private async refreshNow(): Promise<void> {
    try {
      const token = await this.options.auth.requestToken();
      this.sendFrame({ type: "refresh", token });
    } catch {
      // Not connected or SAGE unreachable: retry soon; the old token holds until it expires.
      if (!this.stopped) this.refreshTimer = setTimeout(() => void this.refreshNow(), 1000);
    }
  }

  private scheduleReconnect(detail: { code: number; reason: string }): void {
    if (this.stopped) return;
    this.options.onStatus?.("reconnecting", detail);
    const delay = fullJitterDelay(this.attempt, this.options.backoff ?? DEFAULT_BACKOFF, this.options.random);
    this.attempt += 1;
    this.reconnectTimer = setTimeout(() => void this.open(), delay);
  }

  private clearTimers(): void {
    cancel(this.refreshTimer);
    cancel(this.reconnectTimer);
  }
}

function cancel(timer: ReturnType<typeof setTimeout> | undefined): void {
  if (timer !== undefined) clearTimeout(timer);
}

function parseFrame(data: unknown): Record<string, unknown> | undefined {
  if (typeof data !== "string") return undefined;
  try {
    const value: unknown = JSON.parse(data);
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
