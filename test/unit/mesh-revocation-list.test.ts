import { describe, expect, it } from "vitest";
import { NODE_TOKEN_MAX_TTL_SECONDS } from "../../src/mesh/config";
import { RevocationList } from "../../src/mesh/revocation-list";

/** SyncKvStorage over a Map, as a Durable Object's `ctx.storage.kv` behaves within one object. */
function memoryKv(): SyncKvStorage & { entries: Map<string, unknown> } {
  const entries = new Map<string, unknown>();
  return {
    entries,
    get: <T>(key: string) => entries.get(key) as T | undefined,
    put: (key, value) => void entries.set(key, value),
    delete: (key) => entries.delete(key),
    *list<T>(options: { prefix?: string } = {}) {
      for (const [key, value] of [...entries].sort(([a], [b]) => a.localeCompare(b))) {
        if (!options.prefix || key.startsWith(options.prefix)) yield [key, value as T] as [string, T];
      }
    },
  };
}

describe("RevocationList", () => {
  it("revokes a node's tokens issued at or before the revoked-before second, not later ones", () => {
    const list = new RevocationList(memoryKv());
    list.add({ kind: "node", nodeId: "n", revokedBefore: 1000 });
    expect(list.revokes({ nodeId: "n", jti: "j1", iat: 999 })).toBe(true);
    expect(list.revokes({ nodeId: "n", jti: "j2", iat: 1000 })).toBe(true);
    expect(list.revokes({ nodeId: "n", jti: "j3", iat: 1001 })).toBe(false);
    expect(list.revokes({ nodeId: "other", jti: "j4", iat: 1 })).toBe(false);
  });

  it("never moves a node's line back", () => {
    const list = new RevocationList(memoryKv());
    list.add({ kind: "node", nodeId: "n", revokedBefore: 2000 });
    list.add({ kind: "node", nodeId: "n", revokedBefore: 1000 });
    expect(list.revokes({ nodeId: "n", jti: "j", iat: 1500 })).toBe(true);
  });

  it("revokes one jti", () => {
    const list = new RevocationList(memoryKv());
    list.add({ kind: "token", nodeId: "n", jti: "bad", expiresAt: Date.now() + 60_000 });
    expect(list.revokes({ nodeId: "n", jti: "bad", iat: 1 })).toBe(true);
    expect(list.revokes({ nodeId: "n", jti: "good", iat: 1 })).toBe(false);
  });

  it("never revokes a stub node (it has no token)", () => {
    const list = new RevocationList(memoryKv());
    list.add({ kind: "node", nodeId: "stub:n", revokedBefore: 10 ** 10 });
    expect(list.revokes({ nodeId: "stub:n", jti: null, iat: 1 })).toBe(false);
  });

  it("survives a restart: a new list over the same storage knows everything", () => {
    const kv = memoryKv();
    const first = new RevocationList(kv);
    first.add({ kind: "node", nodeId: "n", revokedBefore: 1000 });
    first.add({ kind: "token", nodeId: "m", jti: "j", expiresAt: Date.now() + 60_000 });
    const second = new RevocationList(kv);
    expect(second.revokes({ nodeId: "n", jti: "x", iat: 1000 })).toBe(true);
    expect(second.revokes({ nodeId: "m", jti: "j", iat: 1 })).toBe(true);
  });

  it("prunes entries no live token can match and says when the next can go", () => {
    const kv = memoryKv();
    const list = new RevocationList(kv);
    list.add({ kind: "token", nodeId: "m", jti: "j", expiresAt: 5_000 });
    list.add({ kind: "node", nodeId: "n", revokedBefore: 10 });
    const nodeKeepUntil = (10 + NODE_TOKEN_MAX_TTL_SECONDS) * 1000;
    expect(list.prune(4_999)).toBe(5_000);
    expect(list.prune(5_000)).toBe(nodeKeepUntil);
    expect(list.revokes({ nodeId: "m", jti: "j", iat: 1 })).toBe(false);
    expect(kv.entries.size).toBe(1);
    expect(list.prune(nodeKeepUntil)).toBeUndefined();
    expect(kv.entries.size).toBe(0);
  });
});
