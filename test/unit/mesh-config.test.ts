import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/env";
import { NO_ROLE_TOPICS } from "../../src/mesh/config";
import { issueNodeToken } from "../../src/mesh/node-token";
import { configError, withVars } from "../support/config";

describe("PulseMesh configuration", () => {
  it("defaults to token mode, RS256, 24 h tokens, close on a forbidden emit, 1000 pulses a minute then throttle", () => {
    const mesh = loadConfig(withVars({ PULSE_AUTH_MODE: undefined, SAGE_TOKEN_TTL_SECONDS: undefined })).mesh;
    expect(mesh).toMatchObject({
      authMode: "token",
      tokenAlgorithm: "RS256",
      tokenTtlSeconds: 86_400,
      forbiddenEmit: "close",
      rateLimitPerMinute: 1000,
      rateAction: "throttle",
    });
  });

  it("caps a node at 8 sockets by default; MESH_MAX_SOCKETS_PER_NODE changes it within 1 to 64", () => {
    expect(loadConfig(withVars({ MESH_MAX_SOCKETS_PER_NODE: undefined })).mesh.maxSocketsPerNode).toBe(8);
    expect(loadConfig(withVars({ MESH_MAX_SOCKETS_PER_NODE: "2" })).mesh.maxSocketsPerNode).toBe(2);
    for (const bad of ["0", "65", "2.5", "-1", "many"]) {
      expect(configError({ MESH_MAX_SOCKETS_PER_NODE: bad })).toContain("MESH_MAX_SOCKETS_PER_NODE must be a whole number");
    }
  });

  it("refuses PULSE_AUTH_MODE=stub in production, and allows it in a local run", () => {
    expect(configError({ PULSE_AUTH_MODE: "stub", ENVIRONMENT: "production" })).toContain("PULSE_AUTH_MODE=stub is for local runs only");
    expect(loadConfig(withVars({ PULSE_AUTH_MODE: "stub" })).mesh.authMode).toBe("stub");
    expect(loadConfig(withVars({ PULSE_AUTH_MODE: "dual" })).mesh.authMode).toBe("dual");
  });

  it("refuses an unknown auth mode, algorithm or action", () => {
    expect(() => loadConfig(withVars({ PULSE_AUTH_MODE: "open" }))).toThrow(ConfigError);
    expect(() => loadConfig(withVars({ SAGE_TOKEN_ALG: "HS256" }))).toThrow(ConfigError);
    expect(() => loadConfig(withVars({ MESH_RATE_ACTION: "ban" }))).toThrow(ConfigError);
    expect(() => loadConfig(withVars({ MESH_FORBIDDEN_EMIT: "ignore" }))).toThrow(ConfigError);
  });

  it("needs SAGE_PRIVATE_KEY for RS256, and refuses one that is not a 2048-bit PKCS#8 RSA key", () => {
    expect(configError({ SAGE_PRIVATE_KEY: undefined })).toBe("SAGE_TOKEN_ALG=RS256 needs SAGE_PRIVATE_KEY");
    expect(configError({ SAGE_PRIVATE_KEY: "not base64url!" })).toContain("SAGE_PRIVATE_KEY must be an RSA private key");
    expect(configError({ SAGE_PRIVATE_KEY: "dGVzdC1vbmx5LWp3dC1zZWNyZXQtMzItYnl0ZXMtbG9uZyEh" })).toContain("SAGE_PRIVATE_KEY must be");
    expect(loadConfig(withVars({ SAGE_PRIVATE_KEY: undefined, SAGE_TOKEN_ALG: "ML-DSA-65" })).mesh.nodeTokenPrivateKey).toBeUndefined();
  });

  it("turns a key that looks right but does not import into a ConfigError on first use", async () => {
    const real = env.SAGE_PRIVATE_KEY!;
    // Same shape and prefix, corrupted body: passes the shape check, fails WebCrypto's import.
    const corrupted = real.slice(0, 80) + "A".repeat(real.length - 80);
    const config = loadConfig(withVars({ SAGE_PRIVATE_KEY: corrupted }));
    await expect(
      issueNodeToken(config, { nodeId: "n", role: "ui", permissions: { allow: [], listen: [], deny: [] } }),
    ).rejects.toBeInstanceOf(ConfigError);
  });

  it("refuses a role table with a bad pattern or a missing role, and denies everything without one", () => {
    const table = loadConfig(env).mesh.roleTopics;
    expect(() => loadConfig(withVars({ MESH_ROLE_TOPICS: { ...table, ui: { allow: ["mirror..x"] } } }))).toThrow(ConfigError);
    const { ui: _, ...missing } = table;
    expect(() => loadConfig(withVars({ MESH_ROLE_TOPICS: missing }))).toThrow(ConfigError);
    expect(loadConfig(withVars({ MESH_ROLE_TOPICS: JSON.stringify(table) })).mesh.roleTopics).toEqual(table);
    expect(loadConfig(withVars({ MESH_ROLE_TOPICS: undefined })).mesh.roleTopics).toEqual(NO_ROLE_TOPICS);
  });

  it("bounds SAGE_TOKEN_TTL_SECONDS between a minute and a week", () => {
    expect(() => loadConfig(withVars({ SAGE_TOKEN_TTL_SECONDS: "59" }))).toThrow(ConfigError);
    expect(() => loadConfig(withVars({ SAGE_TOKEN_TTL_SECONDS: String(7 * 86_400 + 1) }))).toThrow(ConfigError);
    expect(loadConfig(withVars({ SAGE_TOKEN_TTL_SECONDS: "3600" })).mesh.tokenTtlSeconds).toBe(3600);
  });
});
