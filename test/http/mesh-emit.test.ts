import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { MAX_FRAME_BYTES } from "../../src/mesh/frames";
import { revokeToken } from "../../src/mesh/node-registry";
import { ATTACHMENT_MAX_BYTES } from "../../src/mesh/socket-state";
import { join, nodeAuditEvents, nodeToken, topicStub, uniqueNodeId, uniqueTopic, withMeshVars } from "../support/mesh";

describe("pulses: emit and fan-out", () => {
  it("fans a pulse out to every other socket of the topic, never back to the sender", async () => {
    const [a, b, c] = [uniqueNodeId("mirror"), uniqueNodeId("mirror"), uniqueNodeId("hermes")];
    const sender = await join("mirror.update", (await nodeToken(a, "ui")).token);
    const peer = await join("mirror.update", (await nodeToken(b, "ui")).token);
    const messenger = await join("mirror.update", (await nodeToken(c, "hermes")).token);

    const before = Date.now();
    sender.send({ type: "pulse", data: { intent: "open", n: 1 }, id: "p1" });
    const ack = await sender.nextOfType("ack");
    expect(ack).toEqual({ type: "ack", of: "pulse", delivered: 2, id: "p1" });
    for (const receiver of [peer, messenger]) {
      const pulse = await receiver.nextOfType("pulse");
      expect(pulse).toEqual({ type: "pulse", topic: "mirror.update", from: a, data: { intent: "open", n: 1 }, ts: expect.any(Number) });
      expect(pulse.ts).toBeGreaterThanOrEqual(before);
    }
    await expect(sender.nextOfType("pulse", 200)).rejects.toThrow(/timed out/);
    for (const client of [sender, peer, messenger]) client.close();
  });

  it("does not ack a pulse without an id (fan-out traffic only)", async () => {
    const topic = uniqueTopic("reasoner");
    const sender = await join(topic, (await nodeToken(uniqueNodeId(), "reasoner")).token);
    const peer = await join(topic, (await nodeToken(uniqueNodeId(), "reasoner")).token);
    sender.send({ type: "pulse", data: "x" });
    expect((await peer.nextOfType("pulse")).data).toBe("x");
    expect(sender.pending()).toEqual([]);
    sender.close();
    peer.close();
  });

  it("refuses an emit to a listen-only topic with an error frame, closes 1008, delivers nothing, and audits it", async () => {
    const topic = uniqueTopic("mirror.feed");
    const listener = uniqueNodeId("listener");
    const emitter = await join(topic, (await nodeToken(uniqueNodeId(), "reasoner")).token);
    const readOnly = await join(topic, (await nodeToken(listener, "ui")).token);

    readOnly.send({ type: "pulse", data: "sneaky", id: 7 });
    expect(await readOnly.nextOfType("error")).toEqual({
      type: "error",
      code: "forbidden_topic",
      message: `This node may not emit to ${topic}.`,
      id: 7,
    });
    expect(await readOnly.closed()).toEqual({ code: 1008, reason: "emit not allowed on this topic" });
    await expect(emitter.nextOfType("pulse", 200)).rejects.toThrow(/timed out/);
    const [event] = await nodeAuditEvents("mesh.access_denied", listener);
    expect(event!.details).toMatchObject({ event: "unauthorized_access", topic, action: "emit" });
    emitter.close();
  });

  it("with MESH_FORBIDDEN_EMIT=error, refuses the emit but keeps the socket", async () => {
    const topic = uniqueTopic("mirror.feed");
    const readOnly = await join(topic, (await nodeToken(uniqueNodeId(), "ui")).token);
    await withMeshVars(topic, { MESH_FORBIDDEN_EMIT: "error" });
    readOnly.send({ type: "pulse", data: "sneaky", id: 1 });
    expect((await readOnly.nextOfType("error")).code).toBe("forbidden_topic");
    readOnly.send({ type: "unsubscribe", id: "alive" });
    expect((await readOnly.nextOfType("ack")).id).toBe("alive");
    expect(readOnly.isClosed).toBe(false);
    readOnly.close();
  });

  it("stops delivering after unsubscribe and resumes after subscribe", async () => {
    const topic = uniqueTopic("reasoner");
    const sender = await join(topic, (await nodeToken(uniqueNodeId(), "reasoner")).token);
    const receiver = await join(topic, (await nodeToken(uniqueNodeId(), "reasoner")).token);

    receiver.send({ type: "unsubscribe", id: "u" });
    expect(await receiver.nextOfType("ack")).toEqual({ type: "ack", of: "unsubscribe", id: "u" });
    sender.send({ type: "pulse", data: 1, id: 1 });
    expect((await sender.nextOfType("ack")).delivered).toBe(0);

    receiver.send({ type: "subscribe" });
    expect(await receiver.nextOfType("ack")).toEqual({ type: "ack", of: "subscribe" });
    sender.send({ type: "pulse", data: 2, id: 2 });
    expect((await sender.nextOfType("ack")).delivered).toBe(1);
    expect((await receiver.nextOfType("pulse")).data).toBe(2);
    expect(receiver.pending()).toEqual([]);
    sender.close();
    receiver.close();
  });

  it.each([
    ["non-JSON text", "hello", "A frame must be a JSON object."],
    ["a JSON array", "[1,2]", "A frame must be a JSON object."],
    ["an unknown type", JSON.stringify({ type: "shout" }), "`type` must be pulse, subscribe, unsubscribe or refresh."],
    ["a server-only type", JSON.stringify({ type: "ack" }), "`type` must be pulse, subscribe, unsubscribe or refresh."],
    ["a refresh without a token", JSON.stringify({ type: "refresh" }), "A refresh frame carries the new `token`."],
    ["an object id", JSON.stringify({ type: "pulse", id: {} }), "`id` must be a string of at most 64 characters or a number."],
  ])("answers %s with a bad_frame error and keeps the socket", async (_, frame, message) => {
    const client = await join(uniqueTopic("reasoner"), (await nodeToken(uniqueNodeId(), "reasoner")).token);
    client.send(frame);
    expect(await client.nextOfType("error")).toEqual({ type: "error", code: "bad_frame", message });
    client.send({ type: "subscribe", id: "still-here" });
    expect((await client.nextOfType("ack")).id).toBe("still-here");
    client.close();
  });

  it("refuses a 180,000-byte frame of 3-byte characters (under 64 Ki UTF-16 units) and fans nothing out", async () => {
    const topic = uniqueTopic("reasoner");
    const sender = await join(topic, (await nodeToken(uniqueNodeId(), "reasoner")).token);
    const peer = await join(topic, (await nodeToken(uniqueNodeId(), "reasoner")).token);
    const frame = JSON.stringify({ type: "pulse", data: "€".repeat(60_000), id: "wide" });
    expect(new TextEncoder().encode(frame).length).toBeGreaterThan(180_000);
    sender.send(frame);
    expect(await sender.nextOfType("error")).toEqual({
      type: "error",
      code: "bad_frame",
      message: `A frame may be at most ${MAX_FRAME_BYTES} bytes.`,
    });
    await expect(peer.nextOfType("pulse", 300)).rejects.toThrow(/timed out/);
    sender.close();
    peer.close();
  });

  it("answers a binary frame with bad_frame", async () => {
    const client = await join(uniqueTopic("reasoner"), (await nodeToken(uniqueNodeId(), "reasoner")).token);
    client.socket.send(new Uint8Array([1, 2, 3]));
    expect((await client.nextOfType("error")).message).toBe("Frames are JSON text, not binary.");
    client.close();
  });

  it("answers ping with pong from the runtime's auto-response", async () => {
    const topic = uniqueTopic("reasoner");
    const client = await join(topic, (await nodeToken(uniqueNodeId(), "reasoner")).token);
    client.send("ping");
    expect(await client.next((frame) => frame === "pong")).toBe("pong");
    const answeredAt = await runInDurableObject(topicStub(topic), (_, state) =>
      state.getWebSocketAutoResponseTimestamp(state.getWebSockets()[0]!),
    );
    expect(answeredAt).toBeInstanceOf(Date);
    client.close();
  });
});

describe("sockets: tags and attachments", () => {
  it("tags each socket node:<id> and role:<role>, and keeps verified claims in an attachment under 2 KiB", async () => {
    const topic = uniqueTopic("mirror");
    const nodeId = uniqueNodeId();
    const { token, claims } = await nodeToken(nodeId, "hermes", { custom: { deny: ["mirror.secret"] } });
    const client = await join(topic, token);
    const seen = await runInDurableObject(topicStub(topic), (_, state) =>
      state.getWebSockets(`node:${nodeId}`).map((ws) => ({ tags: state.getTags(ws), attachment: ws.deserializeAttachment() as string })),
    );
    expect(seen).toHaveLength(1);
    expect(seen[0]!.tags).toEqual([`node:${nodeId}`, "role:hermes"]);
    expect(new TextEncoder().encode(seen[0]!.attachment).length).toBeLessThanOrEqual(ATTACHMENT_MAX_BYTES);
    const state = JSON.parse(seen[0]!.attachment);
    expect(state).toMatchObject({
      nodeId,
      role: "hermes",
      stub: false,
      subscribed: true,
      permissions: { deny: ["governor.>", "mirror.secret"] },
    });
    expect(state.exp - state.iat).toBe(claims.exp - claims.iat);
    expect(JSON.stringify(state)).not.toContain("eyJ"); // the token itself is never kept
    client.close();
  });
});

describe("refresh over the open socket", () => {
  it("swaps in a new token for the same node and applies its permissions at once", async () => {
    const topic = uniqueTopic("mirror.feed");
    const nodeId = uniqueNodeId();
    const first = await nodeToken(nodeId, "ui", { custom: { allow: [topic] } });
    const client = await join(topic, first.token);
    const peer = await join(topic, (await nodeToken(uniqueNodeId(), "reasoner")).token);

    client.send({ type: "pulse", data: "before", id: "b" });
    expect((await client.nextOfType("ack")).delivered).toBe(1);

    const second = await nodeToken(nodeId, "ui", { ttlSeconds: 600 });
    client.send({ type: "refresh", token: second.token, id: "r" });
    expect(await client.nextOfType("ack")).toEqual({ type: "ack", of: "refresh", access: "listen", exp: second.claims.exp, id: "r" });

    client.send({ type: "pulse", data: "after", id: "a" });
    expect((await client.nextOfType("error")).code).toBe("forbidden_topic");
    expect((await client.closed()).code).toBe(1008);
    expect((await peer.nextOfType("pulse")).data).toBe("before");
    expect(peer.pending()).toEqual([]);
    peer.close();
  });

  it("keeps a socket past its first token's expiry once refreshed", async () => {
    const topic = uniqueTopic("reasoner");
    const nodeId = uniqueNodeId();
    const client = await join(topic, (await nodeToken(nodeId, "reasoner", { ttlSeconds: 2 })).token);
    client.send({ type: "refresh", token: (await nodeToken(nodeId, "reasoner")).token });
    expect((await client.nextOfType("ack")).of).toBe("refresh");

    await new Promise((resolve) => setTimeout(resolve, 2100));
    expect(await runDurableObjectAlarm(topicStub(topic))).toBe(true);
    client.send({ type: "subscribe", id: "alive" });
    expect((await client.nextOfType("ack")).id).toBe("alive");
    expect(client.isClosed).toBe(false);
    client.close();
  });

  it.each([
    [
      "a token for another node",
      async () => (await nodeToken(uniqueNodeId(), "reasoner")).token,
      "refresh_refused",
      "A refresh token must be for the same node and role; reconnect to change them.",
    ],
    [
      "a token of another role",
      async (nodeId: string) => (await nodeToken(nodeId, "governor")).token,
      "refresh_refused",
      "A refresh token must be for the same node and role; reconnect to change them.",
    ],
    ["garbage", async () => "not.a.token", "refresh_refused", "The new token is not valid."],
    [
      "an expired token",
      async (nodeId: string) => {
        const { token } = await nodeToken(nodeId, "reasoner", { ttlSeconds: 1 });
        await new Promise((resolve) => setTimeout(resolve, 1100));
        return token;
      },
      "refresh_refused",
      "The new token has expired.",
    ],
    [
      "a revoked token",
      async (nodeId: string) => {
        const issued = await nodeToken(nodeId, "reasoner");
        await revokeToken(database(env.DB), issued.claims.jti);
        return issued.token;
      },
      "token_revoked",
      "The new token has been revoked or was never issued.",
    ],
  ])("refuses %s with an error frame and keeps the current token", async (_, makeToken, code, message) => {
    const topic = uniqueTopic("reasoner");
    const nodeId = uniqueNodeId();
    const client = await join(topic, (await nodeToken(nodeId, "reasoner")).token);
    const token = await makeToken(nodeId);
    client.send({ type: "refresh", token, id: "r" });
    expect(await client.nextOfType("error")).toEqual({ type: "error", code, message, id: "r" });
    client.send({ type: "pulse", data: 1, id: "still" });
    expect((await client.nextOfType("ack")).of).toBe("pulse");
    client.close();
  });

  it("refuses a new token that no longer allows the topic", async () => {
    const topic = uniqueTopic("reasoner");
    const nodeId = uniqueNodeId();
    const client = await join(topic, (await nodeToken(nodeId, "reasoner")).token);
    client.send({ type: "refresh", token: (await nodeToken(nodeId, "reasoner", { custom: { deny: [topic] } })).token });
    expect((await client.nextOfType("error")).message).toBe(`The new token does not allow ${topic}.`);
    client.close();
  });
});
