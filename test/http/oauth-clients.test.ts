import { describe, expect, it } from "vitest";
import { registerUser, type SignedIn, userWithRole } from "../support/accounts";
import { auditEvents } from "../support/audit";
import { request } from "../support/worker";

const create = (actor: SignedIn, body: unknown) => request("POST", "/api/admin/oauth-clients", { token: actor.accessToken, body });
const WEB_APP = { name: "HeadyMe", redirectUris: ["https://me.heady.test/callback"] };

describe("/api/admin/oauth-clients", () => {
  it("is for admins only, with a person's session", async () => {
    const user = await registerUser();
    const operator = await userWithRole("operator");
    expect((await create(user, WEB_APP)).status).toBe(403);
    expect((await create(operator, WEB_APP)).status).toBe(403);
    expect((await request("GET", "/api/admin/oauth-clients")).status).toBe(401);
    expect((await request("GET", "/api/admin/oauth-clients", { token: user.accessToken })).status).toBe(403);
  });

  it("registers a client with defaults, shows its secret once and stores only its hash", async () => {
    const admin = await userWithRole("admin");
    const created = await create(admin, WEB_APP);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: "HeadyMe",
      redirectUris: ["https://me.heady.test/callback"],
      grantTypes: ["authorization_code", "refresh_token"],
      tokenEndpointAuthMethod: "client_secret_basic",
      idTokenSignedResponseAlg: "RS256",
      accessTokenTtlSeconds: 600,
      firstParty: false,
      hasSecret: true,
    });
    // 32 random bytes, base64url.
    expect(created.body.clientSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(created.headers.get("X-Heady-Receipt")).toBeTruthy();

    const id = created.body.clientId as string;
    const read = await request("GET", `/api/admin/oauth-clients/${id}`, { token: admin.accessToken });
    expect(read.status).toBe(200);
    expect(read.text).not.toContain(created.body.clientSecret);
    expect(read.body).not.toHaveProperty("clientSecret");
    const listed = await request("GET", "/api/admin/oauth-clients", { token: admin.accessToken });
    expect(listed.body.clients.map((client: { clientId: string }) => client.clientId)).toContain(id);
    expect(listed.text).not.toMatch(/secretHash|secret_hash/);
    const [event] = await auditEvents({ subject: id, type: "oauth_client.created" });
    expect(event).toMatchObject({ actor: admin.userId });
  });

  it("accepts https and loopback IP redirect URIs only, exactly as written", async () => {
    const admin = await userWithRole("admin");
    for (const uri of ["http://127.0.0.1:4000/cb", "http://[::1]/cb", "https://app.example/cb?x=1"]) {
      expect((await create(admin, { name: "ok", redirectUris: [uri] })).status, uri).toBe(201);
    }
    for (const uri of [
      "http://localhost:4000/cb",
      "http://app.example/cb",
      "https://app.example/cb#frag",
      "https://user:pw@app.example/cb",
      "/relative",
      "javascript:alert(1)",
    ]) {
      expect((await create(admin, { name: "bad", redirectUris: [uri] })).status, uri).toBe(400);
    }
  });

  it("refuses inconsistent registrations", async () => {
    const admin = await userWithRole("admin");
    const refusals = [
      { name: "no redirect" },
      { ...WEB_APP, tokenEndpointAuthMethod: "none", grantTypes: ["client_credentials"] },
      { ...WEB_APP, tokenEndpointAuthMethod: "private_key_jwt" },
      { ...WEB_APP, grantTypes: ["refresh_token"] },
      { ...WEB_APP, grantTypes: ["implicit"] },
      { ...WEB_APP, idTokenSignedResponseAlg: "HS256" },
      {
        ...WEB_APP,
        jwks: { keys: [{ kty: "EC", crv: "P-256", x: "a", y: "b", d: "private" }] },
        tokenEndpointAuthMethod: "private_key_jwt",
      },
      { ...WEB_APP, audiences: ["not a uri"] },
      { ...WEB_APP, accessTokenTtlSeconds: 86_400 },
    ];
    for (const body of refusals) expect((await create(admin, body)).status, JSON.stringify(body)).toBe(400);
    const service = await create(admin, { name: "svc", grantTypes: ["client_credentials"], audiences: ["https://api.heady.test"] });
    expect(service.status).toBe(201);
    const publicClient = await create(admin, { ...WEB_APP, tokenEndpointAuthMethod: "none" });
    expect(publicClient.status).toBe(201);
    expect(publicClient.body).toMatchObject({ clientSecret: null, hasSecret: false });
  });

  it("updates only the fields given, and deletes", async () => {
    const admin = await userWithRole("admin");
    const { body: client } = await create(admin, WEB_APP);
    const path = `/api/admin/oauth-clients/${client.clientId}`;
    const patched = await request("PATCH", path, { token: admin.accessToken, body: { firstParty: true, scopes: ["openid"] } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ firstParty: true, scopes: ["openid"], redirectUris: WEB_APP.redirectUris, clientSecret: null });
    expect((await request("PATCH", path, { token: admin.accessToken, body: { redirectUris: [] } })).status).toBe(400);
    // Becoming public drops the secret.
    const madePublic = await request("PATCH", path, { token: admin.accessToken, body: { tokenEndpointAuthMethod: "none" } });
    expect(madePublic.body.hasSecret).toBe(false);

    expect((await request("DELETE", path, { token: admin.accessToken })).status).toBe(204);
    expect((await request("GET", path, { token: admin.accessToken })).status).toBe(404);
    expect((await request("DELETE", path, { token: admin.accessToken })).status).toBe(404);
    expect((await request("GET", "/api/admin/oauth-clients/has%20space", { token: admin.accessToken })).status).toBe(400);
  });

  it("rotates the secret with an overlap", async () => {
    const admin = await userWithRole("admin");
    const { body: client } = await create(admin, WEB_APP);
    const rotate = (body?: unknown) =>
      request("POST", `/api/admin/oauth-clients/${client.clientId}/rotate-secret`, { token: admin.accessToken, body });
    const rotated = await rotate({ overlapSeconds: 3600 });
    expect(rotated.status).toBe(200);
    expect(rotated.body.clientSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(rotated.body.clientSecret).not.toBe(client.clientSecret);
    const overlapEnd = Date.parse(rotated.body.previousSecretExpiresAt);
    expect(overlapEnd - Date.now()).toBeGreaterThan(3500_000);
    expect(overlapEnd - Date.now()).toBeLessThanOrEqual(3600_000);
    const byDefault = await rotate();
    expect(byDefault.status).toBe(200);
    expect(Date.parse(byDefault.body.previousSecretExpiresAt) - Date.now()).toBeGreaterThan(86_000_000);
    expect((await rotate({ overlapSeconds: -1 })).status).toBe(400);
  });
});
