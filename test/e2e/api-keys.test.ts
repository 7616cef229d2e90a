import { readFileSync } from "node:fs";
import { describe, expect, inject, it } from "vitest";
import { request } from "../support/e2e/client";
import { uniqueEmail } from "../support/fresh";

describe("API keys against wrangler dev", () => {
  it("create, verify, revoke, and the very next verify is refused; the key never reaches a log", async () => {
    const email = uniqueEmail("keys");
    const { body: session } = await request("POST", "/api/auth/register", {
      body: { email, password: "quartz meridian fox lantern" },
    });

    const created = await request("POST", "/api/auth/api-keys", {
      token: session.accessToken,
      body: { description: "e2e", scopes: ["sync:read"], ttlDays: 7 },
    });
    expect(created.status).toBe(201);
    const { key, id, prefix } = created.body;
    expect(key).toMatch(/^hdy_[0-9A-Za-z]{49}$/);
    expect(key.startsWith(prefix)).toBe(true);

    const verified = await request("GET", "/api/auth/verify", { headers: { "X-API-Key": key } });
    expect(verified.status).toBe(200);
    expect(verified.body).toMatchObject({ valid: true, kind: "api_key", sub: session.user.id, keyId: id, scopes: ["sync:read"] });

    const listed = await request("GET", "/api/auth/api-keys", { token: session.accessToken });
    expect(listed.status).toBe(200);
    expect(JSON.stringify(listed.body)).not.toContain(key);

    expect((await request("DELETE", `/api/auth/api-keys/${id}`, { token: session.accessToken })).status).toBe(204);
    const refused = await request("GET", "/api/auth/verify", { headers: { "X-API-Key": key } });
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe("invalid_token");

    // Give wrangler dev a moment to flush its output, then search everything it printed.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const logs = readFileSync(inject("logFile"), "utf8");
    expect(logs).toContain("/api/auth/verify"); // the log really captured these requests
    expect(logs).not.toContain(key);
    expect(logs).not.toContain(key.slice(12));
  });
});
