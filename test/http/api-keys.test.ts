import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { API_KEY_PATTERN, formatApiKey, generateApiKey, hasValidApiKeyChecksum } from "../../src/crypto/api-key";
import { API_KEY_CREATION_PER_USER } from "../../src/rate-limit/limits";
import { registerUser, type SignedIn, updateUser, userWithRole } from "../support/accounts";
import { auditEvents } from "../support/audit";
import { sha256Hex } from "../support/encoding";
import { request } from "../support/worker";

const createKey = (owner: SignedIn, body: Record<string, unknown> = { description: "test" }) =>
  request("POST", "/api/auth/api-keys", { token: owner.accessToken, body });
const verifyKey = (key: string) => request("GET", "/api/auth/verify", { headers: { "X-API-Key": key } });

async function createdKey(owner: SignedIn, body?: Record<string, unknown>) {
  const created = await createKey(owner, body);
  expect(created.status).toBe(201);
  return created.body as { id: string; key: string; prefix: string; role: string; expiresAt: string | null; warning: string };
}

describe("POST /api/auth/api-keys", () => {
  it("returns the key once with a checksum, stores only its hash, and the key verifies", async () => {
    const owner = await registerUser();
    const created = await createdKey(owner, { description: "ci deploys", scopes: ["sync:read"], ttlDays: 30 });
    expect(created.key).toMatch(API_KEY_PATTERN);
    expect(hasValidApiKeyChecksum(created.key)).toBe(true);
    expect(created.prefix).toBe(created.key.slice(0, 12));
    expect(created.warning).toMatch(/cannot be retrieved again/);
    expect(Date.parse(created.expiresAt!) - Date.now()).toBeGreaterThan(29 * 86_400_000);

    const row = await env.DB.prepare("SELECT * FROM api_keys WHERE id = ?").bind(created.id).first<Record<string, unknown>>();
    expect(row!.key_hash).toBe(await sha256Hex(created.key));
    expect(JSON.stringify(row)).not.toContain(created.key.slice(12));

    const verified = await verifyKey(created.key);
    expect(verified.status).toBe(200);
    expect(verified.body).toMatchObject({
      valid: true,
      kind: "api_key",
      sub: owner.userId,
      role: "user",
      keyId: created.id,
      scopes: ["sync:read"],
    });
    const [event] = await auditEvents({ subject: created.id, type: "api_key.created" });
    expect(event!.actor).toBe(owner.userId);
    expect(JSON.stringify(event)).not.toContain(created.key.slice(12));
  });

  it("never lets a key's role exceed its owner's", async () => {
    const user = await registerUser();
    const refused = await createKey(user, { description: "x", role: "admin" });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe("forbidden");
    const operator = await userWithRole("operator");
    expect((await createdKey(operator, { description: "x", role: "operator" })).role).toBe("operator");
    expect((await createKey(operator, { description: "x", role: "admin" })).status).toBe(403);
    // The default is the lower of `user` and the owner's role.
    const guest = await userWithRole("guest");
    expect((await createKey(guest, { description: "x" })).status).toBe(403); // guests may not hold keys at all
  });

  it("uses the owner's current role: a demoted owner's older token cannot mint a key at its old role", async () => {
    const operator = await userWithRole("operator");
    await updateUser(operator.userId, { role: "user" });
    expect((await createKey(operator, { description: "x", role: "operator" })).status).toBe(403);
  });

  it("an API key cannot mint or revoke keys", async () => {
    const owner = await registerUser();
    const { key, id } = await createdKey(owner);
    const minted = await request("POST", "/api/auth/api-keys", { headers: { "X-API-Key": key }, body: { description: "y" } });
    expect(minted.status).toBe(403);
    expect((await request("DELETE", `/api/auth/api-keys/${id}`, { headers: { "X-API-Key": key } })).status).toBe(403);
  });

  it("refuses bad input with 400 and rate-limits creation per account", async () => {
    const owner = await registerUser();
    for (const body of [
      {},
      { description: "" },
      { description: "x", ttlDays: 0 },
      { description: "x", scopes: ["Not A Scope"] },
      { description: "x", role: "root" },
    ]) {
      const response = await createKey(owner, body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.error.code).toBe("invalid_request");
    }
    const statuses: number[] = [];
    for (let i = 0; i <= API_KEY_CREATION_PER_USER.limit; i++) statuses.push((await createKey(owner)).status);
    expect(statuses.filter((status) => status === 201)).toHaveLength(API_KEY_CREATION_PER_USER.limit);
    const limited = await createKey(owner);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("Retry-After"))).toBeGreaterThan(0);
  });
});

describe("API key scopes come from a fixed list, each grantable only by a role that holds it", () => {
  const issueNodeToken = (key: string, role = "governor") =>
    request("POST", "/api/sage/token", {
      headers: { "X-API-Key": key },
      body: { node_id: `node-${crypto.randomUUID().slice(0, 8)}`, role },
    });

  it("refuses a scope nobody defined with 400, naming it", async () => {
    const owner = await registerUser();
    for (const scope of ["anything:goes", "pqc:nosuchservice", "sage:bootstrap:root", "admin"]) {
      const response = await createKey(owner, { description: "x", scopes: [scope] });
      expect(response.status, scope).toBe(400);
      expect(response.body.error.code).toBe("invalid_request");
      expect(response.body.error.message).toContain(scope);
    }
  });

  it("a user cannot grant sage:bootstrap (a 24 h governor node token) nor pqc for a service above them: 403", async () => {
    const user = await registerUser();
    for (const scope of ["sage:bootstrap", "sage:bootstrap:governor", "pqc:production", "pqc:admin"]) {
      const response = await createKey(user, { description: "x", scopes: [scope] });
      expect(response.status, scope).toBe(403);
      expect(response.body.error.code).toBe("forbidden");
    }
    expect((await createdKey(user, { description: "x", scopes: ["pqc", "pqc:headyme", "sync:read"] })).key).toMatch(API_KEY_PATTERN);
    const operator = await userWithRole("operator");
    expect((await createKey(operator, { description: "x", scopes: ["sage:bootstrap", "pqc:production"] })).status).toBe(201);
    expect((await createKey(operator, { description: "x", scopes: ["pqc:admin"] })).status).toBe(403);
  });

  it("re-checks a key's scopes against the owner's current role on every use", async () => {
    const operator = await userWithRole("operator");
    const { key } = await createdKey(operator, { description: "node bootstrap", scopes: ["sage:bootstrap", "pqc:headyme"] });
    expect((await verifyKey(key)).body.scopes).toEqual(["sage:bootstrap", "pqc:headyme"]);
    expect((await issueNodeToken(key)).status).toBe(200);
    await updateUser(operator.userId, { role: "user" });
    expect((await verifyKey(key)).body.scopes).toEqual(["pqc:headyme"]);
    expect((await issueNodeToken(key)).status).toBe(403);
  });

  it("a key stored with free-text scopes before the list existed carries none of them", async () => {
    const user = await registerUser();
    const { key, id } = await createdKey(user, { description: "legacy" });
    await env.DB.prepare("UPDATE api_keys SET scopes = ? WHERE id = ?")
      .bind(JSON.stringify(["sage:bootstrap", "made:up"]), id)
      .run();
    expect((await verifyKey(key)).body.scopes).toEqual([]);
    expect((await issueNodeToken(key)).status).toBe(403);
  });
});

describe("API key verification refuses", () => {
  it("a wrong secret behind a right prefix, a bad checksum, a revoked key and an expired key", async () => {
    const owner = await registerUser();
    const { key, id } = await createdKey(owner);

    // Same display prefix, other entropy, and a checksum that matches it: only storage can refuse it.
    const otherEntropy = generateApiKey().key.slice(4 + 8, 4 + 43);
    const lookalike = formatApiKey(`${key.slice(4, 12)}${otherEntropy}`);
    expect(lookalike.slice(0, 12)).toBe(key.slice(0, 12));
    expect(hasValidApiKeyChecksum(lookalike)).toBe(true);
    expect((await verifyKey(lookalike)).status).toBe(401);
    await expect.poll(async () => (await auditEvents({ type: "api_key.failed", subject: `key:${lookalike.slice(0, 12)}` })).length).toBe(1);

    const badChecksum = `${key.slice(0, -1)}${key.endsWith("0") ? "1" : "0"}`;
    expect(hasValidApiKeyChecksum(badChecksum)).toBe(false);
    const refused = await verifyKey(badChecksum);
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe("invalid_token");

    expect((await verifyKey(key)).status).toBe(200);
    expect((await request("DELETE", `/api/auth/api-keys/${id}`, { token: owner.accessToken })).status).toBe(204);
    expect((await verifyKey(key)).status).toBe(401);

    const expiring = await createdKey(owner, { description: "short", ttlDays: 1 });
    expect((await verifyKey(expiring.key)).status).toBe(200);
    await env.DB.prepare("UPDATE api_keys SET expires_at = ? WHERE id = ?")
      .bind(Date.now() - 1, expiring.id)
      .run();
    expect((await verifyKey(expiring.key)).status).toBe(401);
  });

  it("a key sent in the query string, even a valid one", async () => {
    const owner = await registerUser();
    const { key } = await createdKey(owner);
    for (const query of [`api_key=${key}`, `x=${key}`, `key=${key}`]) {
      const response = await request("GET", `/api/auth/verify?${query}`, { headers: { "X-API-Key": key } });
      expect(response.status, query).toBe(400);
      expect(response.text).not.toContain(key);
    }
  });

  it("keys of a disabled owner, and acts at most at the owner's current role", async () => {
    const operator = await userWithRole("operator");
    const { key } = await createdKey(operator, { description: "ops", role: "operator" });
    expect((await verifyKey(key)).body.role).toBe("operator");
    await updateUser(operator.userId, { role: "user" });
    expect((await verifyKey(key)).body.role).toBe("user");
    await updateUser(operator.userId, { disabled_at: Date.now() });
    expect((await verifyKey(key)).status).toBe(401);
  });

  it("and records use as a count, refreshing last_used_at without a write per request", async () => {
    const owner = await registerUser();
    const { key, id } = await createdKey(owner);
    for (let i = 0; i < 5; i++) expect((await verifyKey(key)).status).toBe(200);
    await vi.waitFor(async () => {
      const row = await env.DB.prepare("SELECT last_used_at, use_count FROM api_keys WHERE id = ?")
        .bind(id)
        .first<{ last_used_at: number; use_count: number }>();
      expect(row!.last_used_at).toBeGreaterThan(0);
      expect(row!.use_count).toBe(1); // the first use wrote; the next four are counted in memory until the minute is up
    });
    expect(await auditEvents({ subject: id, type: "api_key.used" })).toHaveLength(1);
  });
});

describe("listing and revoking", () => {
  it("A cannot see or revoke B's keys; an admin can do both; no response carries a secret", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const bobsKey = await createdKey(bob);
    const alicesList = await request("GET", "/api/auth/api-keys", { token: alice.accessToken });
    expect(alicesList.status).toBe(200);
    expect(alicesList.body.keys.map((k: { id: string }) => k.id)).not.toContain(bobsKey.id);
    expect((await request("DELETE", `/api/auth/api-keys/${bobsKey.id}`, { token: alice.accessToken })).status).toBe(404);
    expect((await request("GET", "/api/auth/api-keys?all=true", { token: alice.accessToken })).status).toBe(403);
    expect((await verifyKey(bobsKey.key)).status).toBe(200);

    const bobsList = await request("GET", "/api/auth/api-keys", { token: bob.accessToken });
    expect(bobsList.body.keys).toHaveLength(1);
    expect(bobsList.body.keys[0]).toMatchObject({ id: bobsKey.id, prefix: bobsKey.prefix, revokedAt: null });
    expect(bobsList.text).not.toContain(bobsKey.key.slice(12));

    const admin = await userWithRole("admin");
    const everyone = await request("GET", "/api/auth/api-keys?all=true&limit=100", { token: admin.accessToken });
    expect(everyone.status).toBe(200);
    expect(everyone.text).not.toContain(bobsKey.key.slice(12));
    expect((await request("DELETE", `/api/auth/api-keys/${bobsKey.id}`, { token: admin.accessToken })).status).toBe(204);
    expect((await verifyKey(bobsKey.key)).status).toBe(401);
    const [revoked] = await auditEvents({ subject: bobsKey.id, type: "api_key.revoked" });
    expect(revoked!.actor).toBe(admin.userId);
  });

  it("pages keys with a cursor without repeats or gaps", async () => {
    const owner = await registerUser();
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) ids.add((await createdKey(owner)).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { keys: Array<{ id: string }>; nextCursor: string | null } } = await request(
        "GET",
        `/api/auth/api-keys?limit=2${cursor ? `&cursor=${cursor}` : ""}`,
        { token: owner.accessToken },
      );
      expect(page.body.keys, JSON.stringify(page.body)).toBeDefined();
      seen.push(...page.body.keys.map((k) => k.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(5);
    expect(new Set(seen)).toEqual(ids);
    expect((await request("GET", "/api/auth/api-keys?cursor=nonsense", { token: owner.accessToken })).status).toBe(400);
  });
});
