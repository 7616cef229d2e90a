import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { vi } from "vitest";
import { issueAccessToken } from "../../src/credentials/access-token";
import { database } from "../../src/db/client";
import { loadConfig } from "../../src/env";
import type { Role } from "../../src/identity/roles";
import { registerNodeToken } from "../../src/mesh/node-registry";
import { issueNodeToken, type NodeClaims } from "../../src/mesh/node-token";
import { type MeshRole, nodePermissions, type TopicPermissions } from "../../src/mesh/permissions";
import type { MeshTopic } from "../../src/mesh/topic-object";
import { registerUser, sessionIdOf, updateUser } from "./accounts";
import { type AuditRow, auditEvents } from "./audit";
import { BASE_URL, testConfig, withVars } from "./config";
import { randomIp } from "./fresh";
import { worker } from "./worker";

/** Shared by the PulseMesh route tests: node tokens, real WebSocket clients inside workerd, waiting. */

/** A node id no other test uses, so sockets, rate windows and revocations never leak between tests. */
export function uniqueNodeId(label = "node"): string {
  return `${label}-${crypto.randomUUID().slice(0, 8)}`;
}

/** A topic no other test uses, under `prefix` (so role defaults such as `mirror.>` apply). */
export function uniqueTopic(prefix: string): string {
  return `${prefix}.t${crypto.randomUUID().replaceAll("-", "").slice(0, 10)}`;
}

export interface IssuedNodeToken {
  token: string;
  claims: NodeClaims;
}

/** Issues and registers a node token exactly as SAGE does (role defaults plus `custom`), optionally short-lived. */
export async function nodeToken(
  nodeId: string,
  role: MeshRole,
  options: { custom?: Partial<TopicPermissions>; ttlSeconds?: number; notBeforeSeconds?: number } = {},
): Promise<IssuedNodeToken> {
  const config = testConfig();
  const issued = await issueNodeToken(config, {
    nodeId,
    role,
    permissions: nodePermissions(config.mesh.roleTopics[role], options.custom),
    ttlSeconds: options.ttlSeconds,
    notBeforeSeconds: options.notBeforeSeconds,
  });
  await registerNodeToken(database(env.DB), issued.claims, "test");
  return issued;
}

export interface CloseInfo {
  code: number;
  reason: string;
}

/** The client end of a mesh socket, inside workerd, with a queue of received frames. */
export class MeshClient {
  private readonly inbox: unknown[] = [];
  private waiters: (() => void)[] = [];
  private closeInfo: CloseInfo | undefined;

  constructor(
    readonly socket: WebSocket,
    readonly protocol: string | null,
  ) {
    socket.addEventListener("message", (event) => {
      const data = typeof event.data === "string" ? event.data : "";
      let frame: unknown = data;
      try {
        frame = JSON.parse(data);
      } catch {
        // plain text, such as "pong"
      }
      this.inbox.push(frame);
      this.wake();
    });
    socket.addEventListener("close", (event) => {
      this.closeInfo = { code: event.code, reason: event.reason };
      this.wake();
    });
    socket.accept();
  }

  private wake() {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  private async until<T>(check: () => T | undefined, what: string, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = check();
      if (value !== undefined) return value;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`timed out waiting for ${what}; inbox: ${JSON.stringify(this.inbox)}; close: ${JSON.stringify(this.closeInfo)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** Removes and returns the first received frame that matches, waiting for one. */
  next(match: (frame: any) => boolean = () => true, timeoutMs = 3000): Promise<any> {
    return this.until(
      () => {
        const index = this.inbox.findIndex(match);
        return index === -1 ? undefined : this.inbox.splice(index, 1)[0];
      },
      "a matching frame",
      timeoutMs,
    );
  }

  nextOfType(type: string, timeoutMs?: number): Promise<any> {
    return this.next((frame) => typeof frame === "object" && frame !== null && (frame as { type?: string }).type === type, timeoutMs);
  }

  /** Every received frame not yet taken. */
  pending(): unknown[] {
    return [...this.inbox];
  }

  closed(timeoutMs = 3000): Promise<CloseInfo> {
    return this.until(() => this.closeInfo, "the socket to close", timeoutMs);
  }

  get isClosed(): boolean {
    return this.closeInfo !== undefined;
  }

  close(): void {
    try {
      this.socket.close(1000, "bye");
    } catch {
      // already closed
    }
  }
}

export interface ConnectOptions {
  /** Sent as `?token=`. */
  token?: string;
  /** Sent as `Sec-WebSocket-Protocol`. */
  protocols?: string[];
  origin?: string;
  query?: Record<string, string>;
  /** `CF-Connecting-IP`; a fresh random address when omitted. */
  ip?: string;
}

/** Opens `/ws/mesh/<topic>` through the Worker's fetch handler; returns the client once the socket exists. */
export async function connect(topic: string, options: ConnectOptions = {}): Promise<MeshClient> {
  const url = new URL(`/ws/mesh/${encodeURIComponent(topic)}`, BASE_URL);
  if (options.token !== undefined) url.searchParams.set("token", options.token);
  for (const [name, value] of Object.entries(options.query ?? {})) url.searchParams.set(name, value);
  const headers = new Headers({ Upgrade: "websocket", "CF-Connecting-IP": options.ip ?? randomIp() });
  if (options.protocols) headers.set("Sec-WebSocket-Protocol", options.protocols.join(", "));
  if (options.origin) headers.set("Origin", options.origin);
  const response = await worker(new Request(url, { headers }));
  if (response.status !== 101 || !response.webSocket) {
    throw new Error(`expected a WebSocket, got ${response.status}: ${await response.text()}`);
  }
  return new MeshClient(response.webSocket, response.headers.get("Sec-WebSocket-Protocol"));
}

/** Connects with a token and waits for the object's connect ack. */
export async function join(topic: string, token: string): Promise<MeshClient> {
  const client = await connect(topic, { protocols: ["pulse.v1", `bearer.${token}`] });
  const ack = await client.next((frame) => frame?.type === "ack" && frame.of === "connect");
  if (ack.topic !== topic) throw new Error(`joined ${ack.topic}, not ${topic}`);
  return client;
}

/** Audit events of one type about one node, waiting for the ledger's export to D1. */
export async function nodeAuditEvents(type: string, nodeId: string, atLeast = 1): Promise<AuditRow[]> {
  return vi.waitFor(
    async () => {
      const rows = await auditEvents({ type, subject: `node:${nodeId}` });
      if (rows.length < atLeast) throw new Error(`only ${rows.length} ${type} events for node:${nodeId}`);
      return rows;
    },
    { timeout: 5000, interval: 100 },
  );
}

export function topicStub(topic: string) {
  return env.MESH_TOPIC.get(env.MESH_TOPIC.idFromName(topic));
}

export interface Account {
  userId: string;
  /** An access token carrying the account's role. */
  accessToken: string;
}

/** A fresh account with `role`, signed in (its access token carries the role). */
export async function accountWithRole(role: Role): Promise<Account> {
  const account = await registerUser();
  await updateUser(account.userId, { role });
  const { token } = await issueAccessToken(testConfig(), {
    userId: account.userId,
    email: account.email,
    role,
    sessionId: sessionIdOf(account),
  });
  return { userId: account.userId, accessToken: token };
}

/**
 * Gives the topic's live object a config with `vars` changed, for the branches that the run's
 * fixed bindings do not take (MESH_FORBIDDEN_EMIT, MESH_RATE_ACTION). An eviction undoes it.
 */
export async function withMeshVars(topic: string, vars: Record<string, string>): Promise<void> {
  const config = loadConfig(withVars(vars));
  await runInDurableObject(topicStub(topic), (instance: MeshTopic) => {
    (instance as unknown as { config: typeof config }).config = config;
  });
}
