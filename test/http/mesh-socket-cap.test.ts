import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { database } from "../../src/db/client";
import { SOCKET_HANDOFF_GRACE_MS } from "../../src/mesh/admission";
import { revokeToken } from "../../src/mesh/node-registry";
import { testConfig } from "../support/config";
import { connect, join, type MeshClient, nodeToken, uniqueNodeId, uniqueTopic } from "../support/mesh";

const CAP = 8;

async function socketRows(nodeId: string): Promise<{ socket_id: string; topic: string; expires_at: number }[]> {
  const { results } = await env.DB.prepare("SELECT socket_id, topic, expires_at FROM mesh_sockets WHERE node_id = ? ORDER BY connected_at")
    .bind(nodeId)
    .all<{ socket_id: string; topic: string; expires_at: number }>();
  return results;
}

/** Rows as a socket the runtime dropped without a close event leaves them: in D1, held by no object. */
async function orphanRows(nodeId: string, count: number, connectedAt: number): Promise<void> {
  const topic = uniqueTopic("reasoner");
  for (let n = 0; n < count; n++) {
    await env.DB.prepare("INSERT INTO mesh_sockets (socket_id, node_id, topic, connected_at, expires_at) VALUES (?, ?, ?, ?, ?)")
      .bind(crypto.randomUUID(), nodeId, topic, connectedAt, Date.now() + 3_600_000)
      .run();
  }
}

const tooMany = { code: 1013, reason: "too many sockets for this node" };

describe("MESH_MAX_SOCKETS_PER_NODE: a node's sockets are capped across topics", () => {
  it("is 8 in this configuration", () => {
    expect(testConfig().mesh.maxSocketsPerNode).toBe(CAP);
  });

  it("admits 8 sockets of one token on several topics, closes the 9th with 1013 and writes no row for it", async () => {
    const nodeId = uniqueNodeId("greedy");
    const { token } = await nodeToken(nodeId, "reasoner");
    const topics = [uniqueTopic("reasoner"), uniqueTopic("reasoner"), uniqueTopic("reasoner")];
    const open: MeshClient[] = [];
    for (let n = 0; n < CAP; n++) open.push(await join(topics[n % topics.length]!, token));
    expect(await socketRows(nodeId)).toHaveLength(CAP);

    const refused = await connect(uniqueTopic("reasoner"), { token });
    expect(await refused.closed()).toEqual(tooMany);
    expect(refused.pending()).toEqual([]);
    expect(await socketRows(nodeId)).toHaveLength(CAP);
    for (const client of open) expect(client.isClosed).toBe(false);

    // Closing one frees its slot.
    open.shift()!.close();
    await vi.waitFor(async () => expect(await socketRows(nodeId)).toHaveLength(CAP - 1), { timeout: 3000 });
    open.push(await join(topics[0]!, token));
    for (const client of open) client.close();
  });

  it("holds the cap exactly under 20 concurrent connects", async () => {
    const nodeId = uniqueNodeId("burst");
    const { token } = await nodeToken(nodeId, "reasoner");
    const topic = uniqueTopic("reasoner");
    const clients = await Promise.all(Array.from({ length: 20 }, () => connect(topic, { token })));
    const outcomes = await Promise.all(
      clients.map((client) =>
        Promise.race([
          client.nextOfType("ack").then(() => "admitted"),
          client.closed().then((closed) => `${closed.code} ${closed.reason}`),
        ]),
      ),
    );
    expect(outcomes.filter((outcome) => outcome === "admitted")).toHaveLength(CAP);
    expect(outcomes.filter((outcome) => outcome === "1013 too many sockets for this node")).toHaveLength(20 - CAP);
    expect(await socketRows(nodeId)).toHaveLength(CAP);
    for (const client of clients) client.close();
  });

  it("counts the sockets of one node, not of one token: a second token of the node shares the cap", async () => {
    const nodeId = uniqueNodeId("two-tokens");
    const first = await nodeToken(nodeId, "reasoner");
    const second = await nodeToken(nodeId, "reasoner");
    const topic = uniqueTopic("reasoner");
    const open: MeshClient[] = [];
    for (let n = 0; n < CAP; n++) open.push(await join(topic, first.token));
    expect(await (await connect(topic, { token: second.token })).closed()).toEqual(tooMany);
    // Another node is not affected.
    open.push(await join(topic, (await nodeToken(uniqueNodeId(), "reasoner")).token));
    for (const client of open) client.close();
  });

  it("at the cap, sweeps rows of sockets no topic object holds (dropped without a close event) and admits", async () => {
    const nodeId = uniqueNodeId("orphaned");
    const { token } = await nodeToken(nodeId, "reasoner");
    await orphanRows(nodeId, CAP, Date.now() - SOCKET_HANDOFF_GRACE_MS - 1000);
    const client = await join(uniqueTopic("reasoner"), token);
    const rows = await socketRows(nodeId);
    expect(rows).toHaveLength(1);
    client.close();
  });

  it("does not sweep rows claimed within the hand-off grace (a connect still on its way to its object)", async () => {
    const nodeId = uniqueNodeId("in-flight");
    const { token } = await nodeToken(nodeId, "reasoner");
    await orphanRows(nodeId, CAP, Date.now());
    expect(await (await connect(uniqueTopic("reasoner"), { token })).closed()).toEqual(tooMany);
    expect(await socketRows(nodeId)).toHaveLength(CAP);
  });

  it("leaves no row behind for a connect refused after its slot was claimed (a revoked token)", async () => {
    const nodeId = uniqueNodeId("revoked");
    const { token, claims } = await nodeToken(nodeId, "reasoner");
    await revokeToken(database(env.DB), claims.jti);
    expect(await (await connect(uniqueTopic("reasoner"), { token })).closed()).toEqual({ code: 1008, reason: "token revoked" });
    expect(await socketRows(nodeId)).toEqual([]);
  });

  it("moves the slot's expiry when the socket's token is refreshed, so it keeps counting", async () => {
    const nodeId = uniqueNodeId("refreshing");
    const topic = uniqueTopic("reasoner");
    const short = await nodeToken(nodeId, "reasoner", { ttlSeconds: 60 });
    const client = await join(topic, short.token);
    expect((await socketRows(nodeId))[0]!.expires_at).toBe(short.claims.exp * 1000);
    const long = await nodeToken(nodeId, "reasoner", { ttlSeconds: 3600 });
    client.send({ type: "refresh", token: long.token, id: "r" });
    expect((await client.nextOfType("ack")).of).toBe("refresh");
    await vi.waitFor(async () => expect((await socketRows(nodeId))[0]!.expires_at).toBe(long.claims.exp * 1000), { timeout: 3000 });
    client.close();
  });
});
