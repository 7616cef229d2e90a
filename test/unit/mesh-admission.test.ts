import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { type Bindings, loadConfig } from "../../src/env";
import { admitNode, type ConnectAttempt, worthAuditing } from "../../src/mesh/admission";
import { registerNodeToken } from "../../src/mesh/node-registry";
import { issueNodeToken } from "../../src/mesh/node-token";
import { nodePermissions } from "../../src/mesh/permissions";
import { testConfig } from "../support/config";

const OWN_ORIGIN = "https://id.heady.test";
const attempt = (fields: Partial<ConnectAttempt>): ConnectAttempt => ({
  topic: "mirror.intent",
  origin: undefined,
  ownOrigin: OWN_ORIGIN,
  token: undefined,
  stubNodeId: undefined,
  stubRole: undefined,
  ...fields,
});
const inMode = (mode: string) => loadConfig({ ...env, PULSE_AUTH_MODE: mode } as Bindings);
const admit = (config: ReturnType<typeof loadConfig>, fields: Partial<ConnectAttempt>) =>
  admitNode(config, database(env.DB), env.CACHE, attempt(fields));

async function registeredToken(nodeId: string) {
  const config = testConfig();
  const issued = await issueNodeToken(config, { nodeId, role: "ui", permissions: nodePermissions(config.mesh.roleTopics.ui) });
  await registerNodeToken(database(env.DB), issued.claims, "test");
  return issued;
}

describe("admitNode in token mode", () => {
  it("admits a valid token with its claims, never its token", async () => {
    const { token, claims } = await registeredToken(`adm-${crypto.randomUUID().slice(0, 8)}`);
    const result = await admit(testConfig(), { token });
    expect(result).toEqual({
      admitted: {
        nodeId: claims.node_id,
        role: "ui",
        stub: false,
        jti: claims.jti,
        iat: claims.iat,
        exp: claims.exp,
        permissions: { allow: claims.allowed_topics, listen: claims.listen_topics, deny: [] },
        connectedAt: expect.any(Number),
        socketId: expect.any(String),
      },
    });
  });

  it("ignores stub parameters: no token, no entry", async () => {
    const result = await admit(testConfig(), { stubNodeId: "legacy" });
    expect(result).toEqual({
      refused: { reason: "token required", closeCode: 1008, event: "unauthorized_access", nodeId: undefined, detail: "no_token" },
    });
  });

  it("checks the Origin before anything else, and lets the Worker's own origin in", async () => {
    expect(await admit(testConfig(), { origin: "https://evil.example", topic: "bad..topic" })).toMatchObject({
      refused: { reason: "origin not allowed" },
    });
    expect(await admit(testConfig(), { origin: OWN_ORIGIN })).toMatchObject({ refused: { reason: "token required" } });
  });
});

describe("admitNode in dual mode", () => {
  it("admits a node without a token as a marked stub with a prefixed id", async () => {
    const result = await admit(inMode("dual"), { stubNodeId: "legacy", stubRole: "reasoner" });
    expect(result).toMatchObject({
      admitted: { nodeId: "stub:legacy", role: "reasoner", stub: true, jti: null, exp: null, permissions: { allow: [">"] } },
    });
  });

  it("still verifies a token when one is present, and refuses a bad one rather than falling back to stub", async () => {
    const { token } = await registeredToken(`dual-${crypto.randomUUID().slice(0, 8)}`);
    expect(await admit(inMode("dual"), { token })).toMatchObject({ admitted: { stub: false } });
    expect(await admit(inMode("dual"), { token: "x.y.z", stubNodeId: "legacy" })).toMatchObject({ refused: { reason: "invalid token" } });
  });

  it("refuses a stub without a valid node id or with an unknown role", async () => {
    expect(await admit(inMode("dual"), {})).toMatchObject({ refused: { reason: "stub nodes need a valid node_id" } });
    expect(await admit(inMode("dual"), { stubNodeId: "a b" })).toMatchObject({ refused: { reason: "stub nodes need a valid node_id" } });
    expect(await admit(inMode("dual"), { stubNodeId: "ok", stubRole: "admin" })).toMatchObject({ refused: { reason: "unknown role" } });
  });
});

describe("admitNode in stub mode", () => {
  it("needs no token and defaults the role to ui", async () => {
    expect(await admit(inMode("stub"), { stubNodeId: "dev-box" })).toMatchObject({
      admitted: { nodeId: "stub:dev-box", role: "ui", stub: true },
    });
  });

  it("still refuses bad topic names and foreign origins", async () => {
    expect(await admit(inMode("stub"), { stubNodeId: "dev", topic: "a..b" })).toMatchObject({ refused: { reason: "invalid topic name" } });
    expect(await admit(inMode("stub"), { stubNodeId: "dev", origin: "https://evil.example" })).toMatchObject({
      refused: { reason: "origin not allowed" },
    });
  });
});

describe("worthAuditing", () => {
  it("audits refusals of real nodes (verified signature), not anonymous noise", () => {
    expect(worthAuditing({ reason: "token required", closeCode: 1008, event: "unauthorized_access", detail: "no_token" })).toBe(false);
    expect(worthAuditing({ reason: "invalid token", closeCode: 1008, event: "unauthorized_access", detail: "bad_signature" })).toBe(false);
    expect(worthAuditing({ reason: "token expired", closeCode: 1008, event: "token_expired", detail: "expired" })).toBe(true);
    expect(
      worthAuditing({ reason: "topic not allowed", closeCode: 1008, event: "unauthorized_access", nodeId: "n", detail: "topic x" }),
    ).toBe(true);
  });
});
