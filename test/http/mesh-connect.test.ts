import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { issueAccessToken } from "../../src/credentials/access-token";
import { database } from "../../src/db/client";
import { topicsOfNode } from "../../src/mesh/connections";
import { revokeNode, revokeToken } from "../../src/mesh/node-registry";
import { issueNodeToken } from "../../src/mesh/node-token";
import { nodePermissions } from "../../src/mesh/permissions";
import { ALLOWED_ORIGIN, testConfig } from "../support/config";
import { connect, join, nodeAuditEvents, nodeToken, uniqueNodeId, uniqueTopic } from "../support/mesh";
import { decodePayload, flipSignatureByte, forgeJwt, hmacSigner } from "../support/tokens";
import { request } from "../support/worker";

/** A refusal is a WebSocket that the Worker closes at once with 1008 and a short reason. */
async function expectRefused(client: Awaited<ReturnType<typeof connect>>, reason: string) {
  const closed = await client.closed();
  expect(closed).toEqual({ code: 1008, reason });
  expect(new TextEncoder().encode(closed.reason).length).toBeLessThanOrEqual(123);
  expect(client.pending()).toEqual([]);
}

describe("GET /ws/mesh/:topic: admitted connects", () => {
  it("accepts a token in the subprotocol, echoes only pulse.v1, and acks with the node's access and expiry", async () => {
    const nodeId = uniqueNodeId("mirror");
    const { token, claims } = await nodeToken(nodeId, "ui");
    const client = await connect("mirror.intent", { protocols: ["pulse.v1", `bearer.${token}`] });
    expect(client.protocol).toBe("pulse.v1");
    const ack = await client.nextOfType("ack");
    expect(ack).toEqual({ type: "ack", of: "connect", topic: "mirror.intent", node: nodeId, role: "ui", access: "emit", exp: claims.exp });
    client.close();
  });

  it("accepts a token in ?token= as well", async () => {
    const { token } = await nodeToken(uniqueNodeId(), "ui");
    const client = await connect("mirror.query", { token });
    expect(client.protocol).toBeNull();
    expect((await client.nextOfType("ack")).access).toBe("emit");
    client.close();
  });

  it("admits a listen-only topic with access listen", async () => {
    const { token } = await nodeToken(uniqueNodeId(), "ui");
    const client = await connect(uniqueTopic("mirror.feed"), { token });
    expect((await client.nextOfType("ack")).access).toBe("listen");
    client.close();
  });

  it("records the connection in D1 so that a revocation can find the topic", async () => {
    const nodeId = uniqueNodeId();
    const topic = uniqueTopic("reasoner");
    const client = await join(topic, (await nodeToken(nodeId, "reasoner")).token);
    expect(await topicsOfNode(database(env.DB), nodeId)).toEqual([topic]);
    client.close();
  });

  it("lets an allowed browser origin in", async () => {
    const { token } = await nodeToken(uniqueNodeId(), "ui");
    const client = await connect("mirror.intent", { token, origin: ALLOWED_ORIGIN });
    expect((await client.nextOfType("ack")).of).toBe("connect");
    client.close();
  });

  it("records token_verified (mesh.connected) in the audit trail", async () => {
    const nodeId = uniqueNodeId();
    const { token, claims } = await nodeToken(nodeId, "ui");
    (await join("mirror.update", token)).close();
    const [event] = await nodeAuditEvents("mesh.connected", nodeId);
    expect(event!.details).toMatchObject({ event: "token_verified", topic: "mirror.update", jti: claims.jti, role: "ui", stub: false });
  });
});

describe("GET /ws/mesh/:topic: refused connects close with 1008", () => {
  it("refuses a connect without a token (token mode)", async () => {
    await expectRefused(await connect("mirror.intent"), "token required");
  });

  it("refuses an expired token", async () => {
    const { token } = await nodeToken(uniqueNodeId(), "ui", { ttlSeconds: 1 });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await expectRefused(await connect("mirror.intent", { token }), "token expired");
  });

  it("refuses a topic the token does not allow, and audits it under the node", async () => {
    const nodeId = uniqueNodeId();
    const { token } = await nodeToken(nodeId, "ui");
    await expectRefused(await connect("governor.decision", { token }), "topic not allowed");
    const [event] = await nodeAuditEvents("mesh.access_denied", nodeId);
    expect(event!.details).toMatchObject({ event: "unauthorized_access", topic: "governor.decision" });
  });

  it("refuses a topic the role denies even though a wildcard allows it", async () => {
    const { token } = await nodeToken(uniqueNodeId(), "scribe");
    await expectRefused(await connect("governor.private.keys", { token }), "topic not allowed");
  });

  it("refuses a token of a revoked node, and accepts one issued after the revocation", async () => {
    const nodeId = uniqueNodeId();
    const { token } = await nodeToken(nodeId, "ui");
    const { revokedBefore } = await revokeNode(database(env.DB), nodeId, "test");
    await expectRefused(await connect("mirror.intent", { token }), "token revoked");
    const fresh = await nodeToken(nodeId, "ui", { notBeforeSeconds: revokedBefore + 1 });
    (await join("mirror.intent", fresh.token)).close();
  });

  it("refuses a revoked jti but not the node's other tokens", async () => {
    const nodeId = uniqueNodeId();
    const revoked = await nodeToken(nodeId, "ui");
    const other = await nodeToken(nodeId, "ui");
    await revokeToken(database(env.DB), revoked.claims.jti);
    await expectRefused(await connect("mirror.intent", { token: revoked.token }), "token revoked");
    (await join("mirror.intent", other.token)).close();
  });

  it("refuses a validly signed token SAGE never registered", async () => {
    const config = testConfig();
    const { token } = await issueNodeToken(config, {
      nodeId: uniqueNodeId(),
      role: "ui",
      permissions: nodePermissions(config.mesh.roleTopics.ui),
    });
    await expectRefused(await connect("mirror.intent", { token }), "invalid token");
  });

  it("refuses a token with a tampered signature or claims", async () => {
    const { token } = await nodeToken(uniqueNodeId(), "ui");
    await expectRefused(await connect("mirror.intent", { token: flipSignatureByte(token) }), "invalid token");
    const [header, , signature] = token.split(".");
    const widened = { ...decodePayload(token), allowed_topics: [">"] };
    const forged = `${header}.${btoa(JSON.stringify(widened)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_")}.${signature}`;
    await expectRefused(await connect("governor.decision", { token: forged }), "invalid token");
  });

  it("refuses HS256 keyed with the SAGE public key (algorithm confusion)", async () => {
    const { token } = await nodeToken(uniqueNodeId(), "ui");
    const header = JSON.parse(atob(token.split(".")[0]!.replace(/-/g, "+").replace(/_/g, "/")));
    const jwks = (await request("GET", "/.well-known/jwks.json")).body.keys as { kid: string; n: string }[];
    const sageKey = jwks.find((key) => key.kid === header.kid)!;
    const forged = await forgeJwt({ ...header, alg: "HS256" }, decodePayload(token), hmacSigner(sageKey.n));
    await expectRefused(await connect("mirror.intent", { token: forged }), "invalid token");
  });

  it("refuses an access token presented as a node token", async () => {
    const { token } = await issueAccessToken(testConfig(), { userId: "u1", email: "u1@example.test", role: "admin", sessionId: "s1" });
    await expectRefused(await connect("mirror.intent", { token }), "invalid token");
  });

  it("refuses a foreign Origin with 1008 (not the CORS middleware's 403)", async () => {
    const { token } = await nodeToken(uniqueNodeId(), "ui");
    const client = await connect("mirror.intent", { token, origin: "https://evil.example" });
    expect(client.protocol).toBeNull();
    await expectRefused(client, "origin not allowed");
  });

  it("echoes pulse.v1 on a refusal too, so subprotocol clients see the close code", async () => {
    const client = await connect("mirror.intent", { protocols: ["pulse.v1", "bearer.not-a-token"] });
    expect(client.protocol).toBe("pulse.v1");
    await expectRefused(client, "invalid token");
  });

  it.each([
    ["an empty segment", "mirror..intent"],
    ["a wildcard", "mirror.*"],
    ["a control character", "mirror.\u0001"],
    ["a space", "mirror intent"],
    ["a trailing dot", "mirror."],
    ["a name that is too long", `m.${"x".repeat(130)}`],
  ])("refuses a topic name with %s", async (_, topic) => {
    const { token } = await nodeToken(uniqueNodeId(), "governor");
    await expectRefused(await connect(topic, { token }), "invalid topic name");
  });

  it("answers a plain GET (no upgrade) with a 400 JSON error", async () => {
    const response = await request("GET", "/ws/mesh/mirror.intent");
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe("invalid_request");
    expect(response.headers.get("Upgrade")).toBe("websocket");
  });

  it("is on the OpenAPI document", async () => {
    const document = (await request("GET", "/openapi.json")).body;
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(["/ws/mesh/{topic}", "/api/sage/token", "/api/sage/revoke"]));
  });
});
