import { evictAllDurableObjects, evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { AdmittedNode } from "../../src/mesh/socket-state";
import { handoffRequest } from "../../src/mesh/topic-handoff";
import type { MeshTopic } from "../../src/mesh/topic-object";
import { join, MeshClient, nodeAuditEvents, nodeToken, topicStub, uniqueNodeId, uniqueTopic } from "../support/mesh";

/** Marks the live instance, so a test can tell a fresh (re-constructed) instance from the old one. */
const MARK = Symbol.for("mesh-test-instance-mark");

async function markInstance(topic: string): Promise<void> {
  await runInDurableObject(topicStub(topic), (instance: MeshTopic) => {
    (instance as unknown as Record<symbol, boolean>)[MARK] = true;
  });
}

async function isSameInstance(topic: string): Promise<boolean> {
  return runInDurableObject(topicStub(topic), (instance: MeshTopic) => (instance as unknown as Record<symbol, boolean>)[MARK] === true);
}

describe("hibernation: the object is evicted while its sockets stay open", () => {
  it("keeps fanning out after eviction, from attachments alone", async () => {
    const topic = uniqueTopic("reasoner");
    const a = uniqueNodeId("a");
    const sender = await join(topic, (await nodeToken(a, "reasoner")).token);
    const receiver = await join(topic, (await nodeToken(uniqueNodeId("b"), "reasoner")).token);
    await markInstance(topic);

    await evictDurableObject(topicStub(topic));
    expect(sender.isClosed).toBe(false);
    expect(receiver.isClosed).toBe(false);

    sender.send({ type: "pulse", data: "after eviction", id: 1 });
    expect(await sender.nextOfType("ack")).toEqual({ type: "ack", of: "pulse", delivered: 1, id: 1 });
    expect(await receiver.nextOfType("pulse")).toMatchObject({ from: a, topic, data: "after eviction" });
    expect(await isSameInstance(topic)).toBe(false);
    sender.close();
    receiver.close();
  });

  it("still refuses a listen-only node's emit after eviction", async () => {
    const topic = uniqueTopic("mirror.feed");
    const listener = await join(topic, (await nodeToken(uniqueNodeId(), "ui")).token);
    const emitter = await join(topic, (await nodeToken(uniqueNodeId(), "reasoner", { custom: { allow: [topic] } })).token);
    await evictAllDurableObjects();

    listener.send({ type: "pulse", data: "x" });
    expect((await listener.nextOfType("error")).code).toBe("forbidden_topic");
    expect((await listener.closed()).code).toBe(1008);
    emitter.send({ type: "pulse", data: "y", id: "ok" });
    expect(await emitter.nextOfType("ack")).toEqual({ type: "ack", of: "pulse", delivered: 0, id: "ok" });
    emitter.close();
  });

  it("closes a socket whose token expired while the object was evicted, by alarm, and audits token_expired", async () => {
    const topic = uniqueTopic("reasoner");
    const shortLived = uniqueNodeId("short");
    const expiring = await join(topic, (await nodeToken(shortLived, "reasoner", { ttlSeconds: 2 })).token);
    const lasting = await join(topic, (await nodeToken(uniqueNodeId("long"), "reasoner")).token);
    await evictDurableObject(topicStub(topic));

    await new Promise((resolve) => setTimeout(resolve, 2100));
    await runDurableObjectAlarm(topicStub(topic));
    expect((await expiring.nextOfType("error")).code).toBe("token_expired");
    expect(await expiring.closed()).toEqual({ code: 1008, reason: "token expired" });
    expect(lasting.isClosed).toBe(false);
    const [event] = await nodeAuditEvents("mesh.access_denied", shortLived);
    expect(event!.details).toMatchObject({ event: "token_expired", topic });
    lasting.close();
  });

  it("closes an expired socket on its next frame, without the alarm", async () => {
    const topic = uniqueTopic("reasoner");
    // Three seconds, not one: on a loaded machine the join itself can take longer than a second.
    const { token, claims } = await nodeToken(uniqueNodeId(), "reasoner", { ttlSeconds: 3 });
    const client = await join(topic, token);
    await runInDurableObject(topicStub(topic), (_, state) => state.storage.deleteAlarm());
    await evictDurableObject(topicStub(topic));
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, claims.exp * 1000 - Date.now()) + 100));
    client.send({ type: "pulse", data: "late" });
    expect(await client.closed()).toEqual({ code: 1008, reason: "token expired" });
  });

  it("remembers a pushed revocation across eviction and refuses a connect that raced past D1", async () => {
    const topic = uniqueTopic("reasoner");
    const nodeId = uniqueNodeId();
    const { claims } = await nodeToken(nodeId, "reasoner");
    const stub = topicStub(topic);
    // The object has to know its topic first, which the first connect tells it.
    (await join(topic, (await nodeToken(uniqueNodeId(), "reasoner")).token)).close();
    expect(await stub.revoke({ kind: "node", nodeId, revokedBefore: claims.iat })).toEqual({ closed: 0 });
    await evictDurableObject(stub);

    const admitted: AdmittedNode = {
      nodeId,
      role: "reasoner",
      stub: false,
      jti: claims.jti,
      iat: claims.iat,
      exp: claims.exp,
      permissions: { allow: ["reasoner.>"], listen: [], deny: [] },
      connectedAt: Date.now(),
      socketId: crypto.randomUUID(),
    };
    const response = await stub.fetch(handoffRequest(topic, admitted));
    const client = new MeshClient(response.webSocket!, null);
    expect(await client.closed()).toEqual({ code: 1008, reason: "token revoked" });
  });

  it("marks pulses of stub nodes (dual mode) and keeps them apart from token nodes", async () => {
    const topic = uniqueTopic("reasoner");
    const receiver = await join(topic, (await nodeToken(uniqueNodeId(), "reasoner")).token);
    const stubNode: AdmittedNode = {
      nodeId: "stub:legacy",
      role: "ui",
      stub: true,
      jti: null,
      iat: Math.floor(Date.now() / 1000),
      exp: null,
      permissions: { allow: [">"], listen: [], deny: [] },
      connectedAt: Date.now(),
      socketId: crypto.randomUUID(),
    };
    const legacy = new MeshClient((await topicStub(topic).fetch(handoffRequest(topic, stubNode))).webSocket!, null);
    expect(await legacy.nextOfType("ack")).toMatchObject({ of: "connect", node: "stub:legacy", exp: null });
    await evictDurableObject(topicStub(topic));
    legacy.send({ type: "pulse", data: "hi" });
    expect(await receiver.nextOfType("pulse")).toMatchObject({ from: "stub:legacy", stub: true, data: "hi" });
    receiver.close();
    legacy.close();
  });
});
