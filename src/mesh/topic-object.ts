import { DurableObject } from "cloudflare:workers";
import type { AuthEvent } from "../audit/event";
import { createAuditor } from "../audit/record";
import { TokenError } from "../crypto/jwt";
import { database } from "../db/client";
import { type Bindings, type Config, loadConfig } from "../env";
import { countMetric, flushMetrics } from "../metrics/batch";
import { meshAuditEvent } from "./audit-events";
import { extendSocket, releaseSocket } from "./connections";
import {
  ackFrame,
  CLOSE_CODES,
  type ClientFrame,
  closeReason,
  type ErrorCode,
  errorFrame,
  FrameError,
  PING,
  PONG,
  parseClientFrame,
  pulseFrame,
} from "./frames";
import { NodeRate } from "./node-rate";
import { tokenStanding } from "./node-registry";
import { permissionsOf, verifyNodeToken } from "./node-token";
import { topicAccess } from "./permissions";
import { RevocationList, type RevocationNotice } from "./revocation-list";
import { AttachmentTooLargeError, loadSocketState, nodeTag, type SocketState, saveSocketState, socketTags } from "./socket-state";
import { readHandoff } from "./topic-handoff";

const TOPIC_KEY = "topic";

/** The 1008 closes for a credential that stopped standing: the close reason, and the error frame's message. */
const POLICY_CLOSES = {
  token_expired: { reason: "token expired", message: "The node token has expired; connect again with a new one." },
  token_revoked: { reason: "token revoked", message: "The node token has been revoked." },
} as const satisfies Partial<Record<ErrorCode, { reason: string; message: string }>>;

/**
 * One topic room of PulseMesh (`idFromName(topic)`), built on the WebSocket Hibernation API:
 * - sockets are accepted with `ctx.acceptWebSocket` and tagged `node:<id>` and `role:<role>`;
 * - each socket's verified claims live in its attachment, so authorization survives hibernation,
 *   and ping/pong is answered by the runtime, so idle sockets cost nothing;
 * - every emit is checked against the socket's permissions, expiry and the revocations pushed
 *   here, synchronously: the hot path awaits nothing, so no other event can interleave with it;
 * - an alarm closes sockets whose token expired without a refresh.
 * Tokens are verified by the Worker before this object wakes; only `refresh` verifies here.
 */
/** Pulses come by the thousand a minute: their counts are flushed at most about this often per object. */
const PULSE_METRICS_FLUSH_DELAY_MS = 500;

export class MeshTopic extends DurableObject<Bindings> {
  private readonly config: Config;
  private readonly revocations: RevocationList;
  private readonly rate: NodeRate;
  /** Parsed attachments, so fan-out does not deserialize every peer's on every pulse. Empty after a wake-up. */
  private readonly states = new WeakMap<WebSocket, SocketState>();
  private topic: string | undefined;

  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env);
    this.config = loadConfig(env);
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
    this.revocations = new RevocationList(ctx.storage.kv);
    this.rate = new NodeRate(this.config.mesh.rateLimitPerMinute);
    this.topic = ctx.storage.kv.get<string>(TOPIC_KEY);
  }

  /** Accepts a socket the Worker has already admitted (see `src/mesh/admission.ts`). */
  override async fetch(request: Request): Promise<Response> {
    const handoff = readHandoff(request);
    if (!handoff) return new Response("PulseMesh topics are reached through /ws/mesh/{topic}", { status: 400 });
    const { topic, admitted } = handoff;
    if (this.topic === undefined) {
      this.topic = topic;
      this.ctx.storage.kv.put(TOPIC_KEY, topic);
    }

    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server, socketTags(admitted));
    const state: SocketState = { ...admitted, subscribed: true };
    // The revocation may have been pushed here after the Worker's D1 check passed.
    if (this.revocations.revokes(state)) {
      this.closeForPolicy(server, "token_revoked");
    } else {
      try {
        this.remember(server, state);
        server.send(
          ackFrame("connect", {
            topic,
            node: state.nodeId,
            role: state.role,
            access: topicAccess(state.permissions, topic),
            exp: state.exp,
          }),
        );
      } catch (error) {
        if (!(error instanceof AttachmentTooLargeError)) throw error;
        this.close(server, CLOSE_CODES.policy, "token too large");
      }
      if (state.exp !== null) await this.scheduleAlarm(state.exp * 1000);
    }
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const state = this.stateOf(ws);
    if (!state || this.topic === undefined) return this.close(ws, CLOSE_CODES.policy, "no session");
    const now = Date.now();
    if (!this.stillAuthorized(ws, state, now)) return;

    let frame: ClientFrame;
    try {
      frame = parseClientFrame(message);
    } catch (error) {
      if (!(error instanceof FrameError)) throw error;
      ws.send(errorFrame("bad_frame", error.message));
      return;
    }
    switch (frame.type) {
      case "pulse":
        return this.emit(ws, state, this.topic, frame, now);
      case "subscribe":
      case "unsubscribe":
        this.remember(ws, { ...state, subscribed: frame.type === "subscribe" });
        ws.send(ackFrame(frame.type, {}, frame.id));
        return;
      case "refresh":
        return this.refresh(ws, this.topic, frame);
    }
  }

  override async webSocketClose(ws: WebSocket): Promise<void> {
    this.forgetSocket(ws);
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    this.forgetSocket(ws);
  }

  /** Told by SAGE's revoke route: remember the revocation and close the sockets it covers now. */
  async revoke(notice: RevocationNotice): Promise<{ closed: number }> {
    this.revocations.add(notice);
    let closed = 0;
    for (const ws of this.ctx.getWebSockets(nodeTag(notice.nodeId))) {
      const state = this.stateOf(ws);
      if (state && ws.readyState === WebSocket.OPEN && this.revocations.revokes(state)) {
        this.closeForPolicy(ws, "token_revoked");
        closed += 1;
      }
    }
    const pruneAt = this.revocations.prune(Date.now());
    if (pruneAt !== undefined) await this.scheduleAlarm(pruneAt);
    return { closed };
  }

  /** The ids of the node's sockets this object holds open, so the Worker can sweep the node's stale slots. */
  liveSockets(nodeId: string): string[] {
    return this.ctx
      .getWebSockets(nodeTag(nodeId))
      .filter((ws) => ws.readyState === WebSocket.OPEN)
      .flatMap((ws) => this.stateOf(ws)?.socketId ?? []);
  }

  /** Closes sockets whose token expired without a refresh, forgets stale revocations, and plans the next run. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    let next = this.revocations.prune(now);
    for (const ws of this.ctx.getWebSockets()) {
      const state = this.stateOf(ws);
      if (!state || state.exp === null || ws.readyState !== WebSocket.OPEN || !this.stillAuthorized(ws, state, now)) continue;
      next = Math.min(next ?? Infinity, state.exp * 1000);
    }
    if (next !== undefined) await this.ctx.storage.setAlarm(next);
  }

  private emit(ws: WebSocket, state: SocketState, topic: string, frame: Extract<ClientFrame, { type: "pulse" }>, now: number): void {
    if (topicAccess(state.permissions, topic) !== "emit") {
      this.audit(meshAuditEvent("unauthorized_access", { nodeId: state.nodeId, details: { topic, action: "emit" } }));
      ws.send(errorFrame("forbidden_topic", `This node may not emit to ${topic}.`, frame.id));
      if (this.config.mesh.forbiddenEmit === "close") this.close(ws, CLOSE_CODES.policy, "emit not allowed on this topic");
      return;
    }

    const verdict = this.rate.check(state.nodeId, now);
    if (verdict.flag) {
      const { rateLimitPerMinute: limit, rateAction: action } = this.config.mesh;
      this.audit(meshAuditEvent("rate_flagged", { nodeId: state.nodeId, details: { topic, limitPerMinute: limit, action } }));
    }
    if (verdict.over && this.config.mesh.rateAction !== "flag") {
      this.count(() => countMetric("heady_mesh_refusals_total", { event: "rate_limited" }));
      ws.send(errorFrame("rate_limited", `Over ${this.config.mesh.rateLimitPerMinute} pulses a minute; slow down.`, frame.id));
      if (this.config.mesh.rateAction === "close") this.close(ws, CLOSE_CODES.tryAgainLater, "rate limit exceeded");
      return;
    }
    this.rate.count(state.nodeId, now);

    const out = pulseFrame(topic, state.nodeId, frame.data, now, state.stub);
    let delivered = 0;
    for (const peer of this.ctx.getWebSockets()) {
      if (peer === ws || peer.readyState !== WebSocket.OPEN) continue;
      const peerState = this.stateOf(peer);
      if (!peerState?.subscribed || !this.stillAuthorized(peer, peerState, now)) continue;
      try {
        peer.send(out);
        delivered += 1;
      } catch {
        // The peer is closing; its close handler tidies up.
      }
    }
    if (frame.id !== undefined) ws.send(ackFrame("pulse", { delivered }, frame.id));
    this.count(() => countMetric("heady_mesh_pulses_total", {}));
  }

  /** Counts in this isolate and flushes to the metrics aggregator in the background, gathering a pulse burst into one batch. */
  private count(counting: () => void): void {
    counting();
    this.ctx.waitUntil(flushMetrics(this.env, PULSE_METRICS_FLUSH_DELAY_MS));
  }

  /**
   * Swaps in a new token for the same node, without reconnecting. It awaits verification and
   * D1, during which other events run, so everything it decides on is read again afterwards.
   */
  private async refresh(ws: WebSocket, topic: string, frame: Extract<ClientFrame, { type: "refresh" }>): Promise<void> {
    const refuse = (message: string, code: ErrorCode = "refresh_refused") => ws.send(errorFrame(code, message, frame.id));
    let claims;
    try {
      claims = await verifyNodeToken(this.config, this.env.CACHE, frame.token);
    } catch (error) {
      if (!(error instanceof TokenError)) throw error;
      return refuse(error.reason === "expired" ? "The new token has expired." : "The new token is not valid.");
    }
    const standing = await tokenStanding(database(this.env.DB), claims);

    const state = this.stateOf(ws);
    if (!state || ws.readyState !== WebSocket.OPEN) return;
    if (claims.node_id !== state.nodeId || claims.role !== state.role) {
      return refuse("A refresh token must be for the same node and role; reconnect to change them.");
    }
    if (standing !== "valid" || this.revocations.revokes({ nodeId: claims.node_id, jti: claims.jti, iat: claims.iat })) {
      return refuse("The new token has been revoked or was never issued.", "token_revoked");
    }
    const permissions = permissionsOf(claims);
    const access = topicAccess(permissions, topic);
    if (access === "none") return refuse(`The new token does not allow ${topic}.`);
    try {
      this.remember(ws, { ...state, jti: claims.jti, iat: claims.iat, exp: claims.exp, permissions });
    } catch (error) {
      if (!(error instanceof AttachmentTooLargeError)) throw error;
      return refuse("The new token carries too many topic patterns.");
    }
    ws.send(ackFrame("refresh", { access, exp: claims.exp }, frame.id));
    // The slot would otherwise stop counting against the node's cap when the old token expires.
    this.ctx.waitUntil(extendSocket(database(this.env.DB), state.socketId, claims.exp * 1000));
    this.audit(meshAuditEvent("token_verified", { nodeId: claims.node_id, details: { topic, jti: claims.jti, via: "refresh" } }));
    await this.scheduleAlarm(claims.exp * 1000);
  }

  /** Closes the socket (1008) if its token expired or was revoked; true while it may carry on. */
  private stillAuthorized(ws: WebSocket, state: SocketState, now: number): boolean {
    if (state.exp !== null && state.exp * 1000 <= now) {
      this.audit(meshAuditEvent("token_expired", { nodeId: state.nodeId, details: { topic: this.topic, jti: state.jti } }));
      this.closeForPolicy(ws, "token_expired");
      return false;
    }
    if (this.revocations.revokes(state)) {
      this.closeForPolicy(ws, "token_revoked");
      return false;
    }
    return true;
  }

  private stateOf(ws: WebSocket): SocketState | undefined {
    let state = this.states.get(ws);
    if (!state) {
      state = loadSocketState(ws);
      if (state) this.states.set(ws, state);
    }
    return state;
  }

  private remember(ws: WebSocket, state: SocketState): void {
    saveSocketState(ws, state);
    this.states.set(ws, state);
  }

  /**
   * Closes 1008 for an expired or revoked token, after an error frame saying so. The frame
   * matters when the close is started outside a socket event (the revoke RPC, the alarm): the
   * close frame leaves at once, but the runtime ends the TCP connection, and so fires the
   * client's close event, only when the object next hibernates; the error frame is seen at once.
   */
  private closeForPolicy(ws: WebSocket, code: keyof typeof POLICY_CLOSES): void {
    const { reason, message } = POLICY_CLOSES[code];
    try {
      ws.send(errorFrame(code, message));
    } catch {
      // Already closing.
    }
    this.close(ws, CLOSE_CODES.policy, reason);
  }

  private close(ws: WebSocket, code: number, reason: string): void {
    try {
      ws.close(code, closeReason(reason));
    } catch {
      // Already closed.
    }
  }

  /** After a socket closed: free its slot under the node's cap and, after the node's last one here, its rate window. */
  private forgetSocket(ws: WebSocket): void {
    const state = this.stateOf(ws);
    this.states.delete(ws);
    if (!state) return;
    if (!state.stub) this.ctx.waitUntil(releaseSocket(database(this.env.DB), state.socketId));
    const others = this.ctx.getWebSockets(nodeTag(state.nodeId)).filter((peer) => peer !== ws && peer.readyState === WebSocket.OPEN);
    if (others.length === 0) this.rate.forget(state.nodeId);
  }

  /** Every event here is a node's own doing (emits, refreshes), so repeats are coalesced per node. */
  private audit(event: AuthEvent): void {
    const auditor = createAuditor(this.env, { requestId: `mesh-${crypto.randomUUID()}` }, (work) => this.ctx.waitUntil(work));
    void auditor.recordCoalesced(event);
  }

  private async scheduleAlarm(at: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || at < current) await this.ctx.storage.setAlarm(at);
  }
}

/** The one object for `topic`, addressed by name and typed: the binding itself is a plain namespace (src/env.ts). */
export function topicObject(env: Bindings, topic: string): DurableObjectStub<MeshTopic> {
  const namespace = env.MESH_TOPIC as DurableObjectNamespace<MeshTopic>;
  return namespace.get(namespace.idFromName(topic));
}
