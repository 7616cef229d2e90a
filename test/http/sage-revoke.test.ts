import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { database } from "../../src/db/client";
import { topicsOfNode } from "../../src/mesh/connections";
import { apiKeyFor, HASHING_HEAVY } from "../support/accounts";
import { type Account, accountWithRole, connect, join, nodeAuditEvents, nodeToken, uniqueNodeId, uniqueTopic } from "../support/mesh";
import { request } from "../support/worker";

let operator: Account;
let user: Account;
let bootstrapKey: string;

beforeAll(async () => {
  [operator, user] = await Promise.all([accountWithRole("operator"), accountWithRole("user")]);
  bootstrapKey = await apiKeyFor(operator, ["sage:bootstrap"]);
}, HASHING_HEAVY.timeout);

const revoke = (body: unknown, credential: { token?: string; apiKey?: string } = { token: operator.accessToken }) =>
  request("POST", "/api/sage/revoke", {
    body,
    token: credential.token,
    headers: credential.apiKey ? { "X-API-Key": credential.apiKey } : {},
  });

describe("POST /api/sage/revoke {node_id}", () => {
  it("closes the node's live sockets in every topic within the request, and leaves other nodes alone", async () => {
    const nodeId = uniqueNodeId("target");
    const [topicA, topicB] = [uniqueTopic("reasoner"), uniqueTopic("reasoner")];
    const { token } = await nodeToken(nodeId, "reasoner");
    const inA = await join(topicA, token);
    const inB = await join(topicB, token);
    const bystander = await join(topicA, (await nodeToken(uniqueNodeId("bystander"), "reasoner")).token);

    const started = Date.now();
    const response = await revoke({ node_id: nodeId });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ revoked: "node", node_id: nodeId, topicsNotified: 2, topicsUnreachable: 0, socketsClosed: 2 });
    for (const socket of [inA, inB]) {
      expect(await socket.nextOfType("error")).toEqual({
        type: "error",
        code: "token_revoked",
        message: "The node token has been revoked.",
      });
      expect(await socket.closed()).toEqual({ code: 1008, reason: "token revoked" });
    }
    expect(Date.now() - started).toBeLessThan(2000);

    bystander.send({ type: "subscribe", id: "alive" });
    expect((await bystander.nextOfType("ack")).id).toBe("alive");
    bystander.close();
  });

  it("refuses every later connect with the old token, while a token issued afterwards by SAGE works", async () => {
    const nodeId = uniqueNodeId();
    const { token } = await nodeToken(nodeId, "ui");
    expect((await revoke({ node_id: nodeId })).status).toBe(200);
    expect(await (await connect("mirror.intent", { token })).closed()).toEqual({ code: 1008, reason: "token revoked" });

    const reissued = await request("POST", "/api/sage/token", { token: operator.accessToken, body: { node_id: nodeId, role: "ui" } });
    expect(reissued.status).toBe(200);
    (await join("mirror.intent", reissued.body.token)).close();
  });

  it("is idempotent", async () => {
    const nodeId = uniqueNodeId();
    const client = await join(uniqueTopic("reasoner"), (await nodeToken(nodeId, "reasoner")).token);
    expect((await revoke({ node_id: nodeId })).body.socketsClosed).toBe(1);
    await client.closed();
    const again = await revoke({ node_id: nodeId });
    expect(again.status).toBe(200);
    expect(again.body.socketsClosed).toBe(0);
  });

  it("audits the revocation with the operator as actor and what it reached", async () => {
    const nodeId = uniqueNodeId();
    const client = await join(uniqueTopic("reasoner"), (await nodeToken(nodeId, "reasoner")).token);
    await revoke({ node_id: nodeId });
    await client.closed();
    const [event] = await nodeAuditEvents("mesh.node_revoked", nodeId);
    expect(event!.actor).toBe(operator.userId);
    expect(event!.details).toMatchObject({ event: "revoked", kind: "node", topicsNotified: 1, socketsClosed: 1 });
  });

  it("revokes a node that has no sockets anywhere (nothing to tell)", async () => {
    const response = await revoke({ node_id: uniqueNodeId() });
    expect(response.body).toMatchObject({ revoked: "node", topicsNotified: 0, socketsClosed: 0 });
  });
});

describe("POST /api/sage/revoke {jti}", () => {
  it("closes only the socket of that token", async () => {
    const nodeId = uniqueNodeId();
    const topic = uniqueTopic("reasoner");
    const revoked = await nodeToken(nodeId, "reasoner");
    const kept = await nodeToken(nodeId, "reasoner");
    const doomed = await join(topic, revoked.token);
    const survivor = await join(topic, kept.token);

    const response = await revoke({ jti: revoked.claims.jti });
    expect(response.body).toEqual({
      revoked: "token",
      node_id: nodeId,
      jti: revoked.claims.jti,
      topicsNotified: 1,
      topicsUnreachable: 0,
      socketsClosed: 1,
    });
    expect(await doomed.closed()).toEqual({ code: 1008, reason: "token revoked" });
    survivor.send({ type: "pulse", data: 1, id: "ok" });
    expect((await survivor.nextOfType("ack")).of).toBe("pulse");
    survivor.close();
  });

  it("answers 404 for a jti SAGE never issued", async () => {
    const response = await revoke({ jti: crypto.randomUUID() });
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe("not_found");
  });
});

describe("POST /api/sage/revoke: who may, and bad input", () => {
  it("answers 401 without a credential, 403 to a user and to a bootstrap key", async () => {
    expect((await revoke({ node_id: "n1" }, {})).status).toBe(401);
    expect((await revoke({ node_id: "n1" }, { token: user.accessToken })).status).toBe(403);
    expect((await revoke({ node_id: "n1" }, { apiKey: bootstrapKey })).status).toBe(403);
  });

  it.each([
    ["neither node_id nor jti", {}],
    ["both node_id and jti", { node_id: "n1", jti: "abc" }],
    ["a bad node_id", { node_id: "../etc" }],
    ["an empty jti", { jti: "" }],
  ])("answers 400 to %s", async (_, body) => {
    const response = await revoke(body);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe("invalid_request");
  });
});

describe("mesh_connections bookkeeping", () => {
  it("forgets a node's topic once its last socket there has closed", async () => {
    const nodeId = uniqueNodeId();
    const topic = uniqueTopic("reasoner");
    const { token } = await nodeToken(nodeId, "reasoner");
    const first = await join(topic, token);
    const second = await join(topic, token);
    first.close();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await topicsOfNode(database(env.DB), nodeId)).toEqual([topic]);
    second.close();
    await vi.waitFor(async () => expect(await topicsOfNode(database(env.DB), nodeId)).toEqual([]), { timeout: 3000 });
  });
});
