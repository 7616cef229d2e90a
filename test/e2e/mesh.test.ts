import { createConnection, createServer, type Server, type Socket } from "node:net";
import { beforeAll, describe, expect, inject, it } from "vitest";
import WebSocket from "ws";
import { type Pulse, PulseAuth, PulseTransport, type TransportStatus } from "../../src/clients/mesh";
import { baseUrl, request } from "../support/e2e/client";

/** PulseMesh against wrangler dev, with real `ws` clients and the SDK over Node's own WebSocket. */

let adminToken: string;

beforeAll(async () => {
  const login = await request("POST", "/api/auth/login", { body: inject("bootstrapAdmin") });
  expect(login.status).toBe(200);
  adminToken = login.body.accessToken;
});

const unique = (label: string) => `${label}-${crypto.randomUUID().slice(0, 8)}`;

async function issue(nodeId: string, role: string, extra: Record<string, unknown> = {}): Promise<string> {
  const response = await request("POST", "/api/sage/token", { token: adminToken, body: { node_id: nodeId, role, ...extra } });
  expect(response.status).toBe(200);
  return response.body.token;
}

interface Closed {
  code: number;
  reason: string;
  at: number;
}

/** A raw `ws` client: every frame it receives, and how it closed. */
class RawNode {
  readonly frames: any[] = [];
  readonly closed: Promise<Closed>;
  private listeners: (() => void)[] = [];

  constructor(readonly socket: WebSocket) {
    socket.on("message", (data) => {
      const text = data.toString();
      try {
        this.frames.push(JSON.parse(text));
      } catch {
        this.frames.push(text);
      }
      for (const listener of this.listeners.splice(0)) listener();
    });
    this.closed = new Promise((resolve) =>
      socket.on("close", (code, reason) => resolve({ code, reason: reason.toString(), at: Date.now() })),
    );
  }

  /** Takes the first frame that matches, waiting up to `timeoutMs`. */
  async next(match: (frame: any) => boolean, timeoutMs = 5000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.frames.findIndex(match);
      if (index !== -1) return this.frames.splice(index, 1)[0];
      if (Date.now() > deadline) throw new Error(`no matching frame; got ${JSON.stringify(this.frames)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 100);
        this.listeners.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  nextOfType(type: string, timeoutMs?: number) {
    return this.next((frame) => frame?.type === type, timeoutMs);
  }

  send(frame: unknown) {
    this.socket.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }
}

/**
 * Asserts a server-started 1008 close: the error frame and the close frame arrive within
 * `withinMs` of `since`, and the close event carries the code and reason. That event itself can
 * come later: when the close starts outside a socket event (the revoke call, the expiry alarm),
 * the runtime ends the TCP connection only when the topic object hibernates (about 10 s locally).
 */
async function closedWithin(node: RawNode, errorCode: string, reason: string, since: number, withinMs: number) {
  expect(await node.nextOfType("error", withinMs)).toMatchObject({ code: errorCode });
  await expect.poll(() => node.socket.readyState, { timeout: 1000 }).toBeGreaterThanOrEqual(WebSocket.CLOSING);
  expect(Date.now() - since).toBeLessThan(withinMs);
  expect(await node.closed).toMatchObject({ code: 1008, reason });
}

function meshUrl(topic: string, query = ""): string {
  return `${baseUrl().replace(/^http/, "ws")}/ws/mesh/${topic}${query}`;
}

/** Opens a socket with the token in the subprotocol and waits until it is open (refused ones open, then close 1008). */
async function open(topic: string, token?: string, options: { origin?: string } = {}): Promise<RawNode> {
  const protocols = token ? ["pulse.v1", `bearer.${token}`] : ["pulse.v1"];
  const socket = new WebSocket(meshUrl(topic), protocols, { origin: options.origin });
  const node = new RawNode(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", reject);
  });
  expect(socket.protocol).toBe("pulse.v1");
  return node;
}

async function join(topic: string, token: string): Promise<RawNode> {
  const node = await open(topic, token);
  expect(await node.next((frame) => frame?.type === "ack" && frame.of === "connect")).toMatchObject({ topic });
  return node;
}

describe("PulseMesh with real ws clients", () => {
  it("several nodes with different roles: fan-out, and every emit checked", async () => {
    const [mirrorId, hermesId, reasonerId] = [unique("mirror"), unique("hermes"), unique("reasoner")];
    const mirror = await join("mirror.update", await issue(mirrorId, "ui"));
    const hermes = await join("mirror.update", await issue(hermesId, "hermes"));
    const reasoner = await join("mirror.update", await issue(reasonerId, "reasoner"));

    mirror.send({ type: "pulse", data: { text: "hello mesh" }, id: 1 });
    expect(await mirror.nextOfType("ack")).toEqual({ type: "ack", of: "pulse", delivered: 2, id: 1 });
    for (const receiver of [hermes, reasoner]) {
      expect(await receiver.nextOfType("pulse")).toMatchObject({ topic: "mirror.update", from: mirrorId, data: { text: "hello mesh" } });
    }

    hermes.send({ type: "pulse", data: "from hermes" });
    expect(await mirror.nextOfType("pulse")).toMatchObject({ from: hermesId, data: "from hermes" });
    expect(await reasoner.nextOfType("pulse")).toMatchObject({ from: hermesId, data: "from hermes" });

    // The reasoner may listen here, not emit: the emit is refused and the socket closed.
    reasoner.send({ type: "pulse", data: "not mine to say" });
    expect(await reasoner.nextOfType("error")).toMatchObject({ code: "forbidden_topic" });
    expect(await reasoner.closed).toMatchObject({ code: 1008, reason: "emit not allowed on this topic" });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(mirror.frames.filter((frame) => frame?.type === "pulse")).toEqual([]);

    mirror.send("ping");
    expect(await mirror.next((frame) => frame === "pong")).toBe("pong");
    mirror.socket.close();
    hermes.socket.close();
  });

  it("refuses connects with 1008 and a reason: no token, bad token, wrong topic, foreign origin", async () => {
    expect(await (await open("mirror.intent")).closed).toMatchObject({ code: 1008, reason: "token required" });
    expect(await (await open("mirror.intent", "a.b.c")).closed).toMatchObject({ code: 1008, reason: "invalid token" });
    const token = await issue(unique("mirror"), "ui");
    expect(await (await open("governor.decision", token)).closed).toMatchObject({ code: 1008, reason: "topic not allowed" });
    expect(await (await open("mirror.intent", token, { origin: "https://evil.example" })).closed).toMatchObject({
      code: 1008,
      reason: "origin not allowed",
    });
  });

  it("caps one node at MESH_MAX_SOCKETS_PER_NODE (8) sockets across topics: the 9th closes 1013, a closed one frees a slot", async () => {
    const token = await issue(unique("greedy"), "reasoner");
    const topics = [`reasoner.${unique("a")}`, `reasoner.${unique("b")}`];
    const nodes: RawNode[] = [];
    for (let n = 0; n < 8; n++) nodes.push(await join(topics[n % 2]!, token));
    expect(await (await open(`reasoner.${unique("c")}`, token)).closed).toMatchObject({
      code: 1013,
      reason: "too many sockets for this node",
    });
    const first = nodes.shift()!;
    first.socket.close();
    await first.closed;
    await expect
      .poll(
        async () =>
          (await open(topics[0]!, token)).next((frame) => frame?.type === "ack" || frame?.type === "error", 2000).catch(() => undefined),
        {
          timeout: 5000,
        },
      )
      .toMatchObject({ type: "ack", of: "connect" });
    for (const node of nodes) node.socket.close();
  });

  it("a revocation closes a live socket within seconds", async () => {
    const nodeId = unique("doomed");
    const node = await join(`reasoner.${unique("work")}`, await issue(nodeId, "reasoner"));
    const started = Date.now();
    const revoked = await request("POST", "/api/sage/revoke", { token: adminToken, body: { node_id: nodeId } });
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ revoked: "node", socketsClosed: 1 });
    await closedWithin(node, "token_revoked", "token revoked", started, 3000);
  });

  it("refresh over the open socket keeps it past the first token's expiry", async () => {
    const nodeId = unique("refresher");
    const node = await join("reasoner.refresh", await issue(nodeId, "reasoner", { ttlSeconds: 5 }));
    node.send({ type: "refresh", token: await issue(nodeId, "reasoner"), id: "r" });
    expect(await node.nextOfType("ack")).toMatchObject({ of: "refresh", access: "emit", id: "r" });

    await new Promise((resolve) => setTimeout(resolve, 6500));
    node.send({ type: "pulse", data: "still here", id: "p" });
    expect(await node.nextOfType("ack")).toMatchObject({ of: "pulse", id: "p" });
    node.socket.close();
  });

  it("a socket whose token expires without a refresh is closed, with no frame needed", async () => {
    const node = await join(`reasoner.${unique("expiry")}`, await issue(unique("expiring"), "reasoner", { ttlSeconds: 5 }));
    const connectedAt = Date.now();
    await closedWithin(node, "token_expired", "token expired", connectedAt, 8000);
  });
});

/** A TCP proxy in front of wrangler dev, so a test can drop every connection the way a network does. */
async function dropper(): Promise<{ url: string; drop(): void; connections(): number; close(): void }> {
  const target = new URL(baseUrl());
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer((client) => {
    connections += 1;
    const upstream = createConnection(Number(target.port), target.hostname);
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      sockets.add(from);
      from.pipe(to);
      from.on("error", () => to.destroy());
      from.on("close", () => {
        sockets.delete(from);
        to.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    drop: () => {
      for (const socket of sockets) socket.destroy();
    },
    connections: () => connections,
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

describe("the PulseAuth / PulseTransport SDK", () => {
  let bootstrapKey: string;

  beforeAll(async () => {
    const created = await request("POST", "/api/auth/api-keys", {
      token: adminToken,
      body: { description: "e2e mesh bootstrap", scopes: ["sage:bootstrap"] },
    });
    expect(created.status).toBe(201);
    bootstrapKey = created.body.key;
  });

  it("connects with a bootstrap key, reconnects with backoff after the server drops it, and never after a 1008", async () => {
    const proxy = await dropper();
    const nodeId = unique("sdk");
    const topic = `reasoner.${unique("sdk")}`;
    const observer = await join(topic, await issue(unique("observer"), "reasoner"));
    const statuses: TransportStatus[] = [];
    const received: Pulse<{ n: number }>[] = [];
    const transport = new PulseTransport<{ n: number }>({
      meshUrl: proxy.url,
      topic,
      auth: new PulseAuth({ baseUrl: proxy.url, nodeId, role: "reasoner", credential: { apiKey: bootstrapKey } }),
      backoff: { baseMs: 100, maxMs: 1000 },
      onStatus: (status) => statuses.push(status),
      onPulse: (pulse) => received.push(pulse),
    });

    await transport.connect();
    transport.emit({ n: 1 });
    expect(await observer.nextOfType("pulse")).toMatchObject({ from: nodeId, data: { n: 1 } });
    observer.send({ type: "pulse", data: { n: 2 } });
    await expect.poll(() => received.map((pulse) => pulse.data.n)).toEqual([2]);

    proxy.drop();
    await expect.poll(() => transport.connections, { timeout: 10_000 }).toBe(2);
    expect(statuses).toEqual(["connecting", "open", "reconnecting", "open"]);
    transport.emit({ n: 3 });
    expect(await observer.nextOfType("pulse")).toMatchObject({ from: nodeId, data: { n: 3 } });

    const revoked = await request("POST", "/api/sage/revoke", { token: adminToken, body: { node_id: nodeId } });
    expect(revoked.body.socketsClosed).toBe(1);
    await expect.poll(() => statuses.at(-1)).toBe("closed");
    const attempts = proxy.connections();
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(proxy.connections()).toBe(attempts);
    expect(transport.isOpen).toBe(false);
    observer.socket.close();
    proxy.close();
  });

  it("refreshes its token over the open socket before it expires, without reconnecting", async () => {
    const topic = `reasoner.${unique("sdk-refresh")}`;
    const observer = await join(topic, await issue(unique("observer"), "reasoner"));
    const nodeId = unique("sdk-refresh");
    const transport = new PulseTransport({
      meshUrl: baseUrl(),
      topic,
      auth: new PulseAuth({ baseUrl: baseUrl(), nodeId, role: "reasoner", credential: { apiKey: bootstrapKey }, ttlSeconds: 6 }),
    });
    await transport.connect();
    await new Promise((resolve) => setTimeout(resolve, 7500));
    expect(transport.refreshes).toBeGreaterThanOrEqual(1);
    expect(transport.connections).toBe(1);
    transport.emit("after the first token's expiry");
    expect(await observer.nextOfType("pulse")).toMatchObject({ from: nodeId, data: "after the first token's expiry" });
    transport.close();
    observer.socket.close();
  });

  it("rejects connect() when SAGE refuses the credential, without retrying", async () => {
    const transport = new PulseTransport({
      meshUrl: baseUrl(),
      topic: "mirror.intent",
      auth: new PulseAuth({ baseUrl: baseUrl(), nodeId: unique("nokey"), role: "ui", credential: { apiKey: "hdy_not_a_real_key" } }),
    });
    await expect(transport.connect()).rejects.toMatchObject({ name: "PulseAuthError", status: 401 });
    expect(transport.connections).toBe(0);
  });
});
