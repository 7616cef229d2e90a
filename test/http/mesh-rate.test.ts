import { describe, expect, it } from "vitest";
import { RATE_WINDOW_MS } from "../../src/mesh/node-rate";
import { testConfig } from "../support/config";
import { join, nodeAuditEvents, nodeToken, uniqueNodeId, uniqueTopic, withMeshVars } from "../support/mesh";

/** Starts the burst early in a window, so a window boundary cannot fall inside it. */
async function awayFromWindowEdge(): Promise<void> {
  const intoWindow = Date.now() % RATE_WINDOW_MS;
  if (intoWindow > RATE_WINDOW_MS - 10_000) await new Promise((resolve) => setTimeout(resolve, RATE_WINDOW_MS - intoWindow + 50));
}

describe("the rate rule: over 1,000 pulses a minute", () => {
  it("is the configured limit and action", () => {
    expect(testConfig().mesh).toMatchObject({ rateLimitPerMinute: 1000, rateAction: "throttle" });
  });

  it("delivers 1,000 pulses, then flags the node once and throttles what follows", { timeout: 30_000 }, async () => {
    const topic = uniqueTopic("reasoner");
    const busy = uniqueNodeId("busy");
    const sender = await join(topic, (await nodeToken(busy, "reasoner")).token);
    const receiver = await join(topic, (await nodeToken(uniqueNodeId(), "reasoner")).token);
    await awayFromWindowEdge();

    for (let n = 1; n <= 1000; n++) sender.send({ type: "pulse", data: n });
    sender.send({ type: "pulse", data: 1001, id: "over" });
    sender.send({ type: "pulse", data: 1002, id: "still-over" });

    expect(await sender.nextOfType("error")).toEqual({
      type: "error",
      code: "rate_limited",
      message: "Over 1000 pulses a minute; slow down.",
      id: "over",
    });
    expect((await sender.nextOfType("error")).id).toBe("still-over");
    for (let n = 1; n <= 1000; n++) expect((await receiver.nextOfType("pulse")).data).toBe(n);
    await expect(receiver.nextOfType("pulse", 300)).rejects.toThrow(/timed out/);
    expect(sender.isClosed).toBe(false);

    const flagged = await nodeAuditEvents("mesh.access_denied", busy);
    expect(flagged).toHaveLength(1);
    expect(flagged[0]!.details).toMatchObject({ event: "rate_flagged", topic, limitPerMinute: 1000, action: "throttle" });
    sender.close();
    receiver.close();
  });

  it("counts per node: another node in the same topic is not throttled", async () => {
    const topic = uniqueTopic("reasoner");
    const busy = await join(topic, (await nodeToken(uniqueNodeId(), "reasoner")).token);
    const calm = await join(topic, (await nodeToken(uniqueNodeId(), "reasoner")).token);
    await awayFromWindowEdge();
    for (let n = 0; n <= 1000; n++) busy.send({ type: "pulse", data: n, ...(n === 1000 ? { id: "over" } : {}) });
    expect((await busy.nextOfType("error")).code).toBe("rate_limited");
    calm.send({ type: "pulse", data: "calm", id: "calm" });
    expect(await calm.nextOfType("ack")).toEqual({ type: "ack", of: "pulse", delivered: 1, id: "calm" });
    busy.close();
    calm.close();
  });

  it("with MESH_RATE_ACTION=close, closes the node's socket with 1013 (try again later)", async () => {
    const topic = uniqueTopic("reasoner");
    const busy = await join(topic, (await nodeToken(uniqueNodeId(), "reasoner")).token);
    await withMeshVars(topic, { MESH_RATE_ACTION: "close" });
    await awayFromWindowEdge();
    for (let n = 0; n <= 1000; n++) busy.send({ type: "pulse", data: n });
    expect((await busy.nextOfType("error")).code).toBe("rate_limited");
    expect(await busy.closed()).toEqual({ code: 1013, reason: "rate limit exceeded" });
  });

  it("with MESH_RATE_ACTION=flag, flags the node but keeps delivering", async () => {
    const topic = uniqueTopic("reasoner");
    const busy = uniqueNodeId("flagged");
    const sender = await join(topic, (await nodeToken(busy, "reasoner")).token);
    const receiver = await join(topic, (await nodeToken(uniqueNodeId(), "reasoner")).token);
    await withMeshVars(topic, { MESH_RATE_ACTION: "flag" });
    await awayFromWindowEdge();
    for (let n = 1; n <= 1001; n++) sender.send({ type: "pulse", data: n, ...(n === 1001 ? { id: "last" } : {}) });
    expect(await sender.nextOfType("ack")).toEqual({ type: "ack", of: "pulse", delivered: 1, id: "last" });
    for (let n = 1; n <= 1001; n++) expect((await receiver.nextOfType("pulse")).data).toBe(n);
    const [event] = await nodeAuditEvents("mesh.access_denied", busy);
    expect(event!.details).toMatchObject({ event: "rate_flagged", action: "flag" });
    sender.close();
    receiver.close();
  });
});
