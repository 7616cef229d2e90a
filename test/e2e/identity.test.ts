import { describe, expect, it } from "vitest";
import { request } from "../support/e2e/client";
import { uniqueEmail } from "../support/fresh";

const PASSWORD = "orbital tangerine lighthouse";

describe("identity core against wrangler dev", () => {
  it("register, login, me, verify and refresh work end to end", async () => {
    const email = uniqueEmail("flow");
    const registered = await request("POST", "/api/auth/register", { body: { email, password: PASSWORD } });
    expect(registered.status).toBe(201);
    expect(registered.body.user).toMatchObject({ email, role: "user" });
    expect(registered.headers.get("set-cookie")).toMatch(/^__Host-heady_session=.+HttpOnly.*Secure.*SameSite=Strict/i);

    const login = await request("POST", "/api/auth/login", { body: { email, password: PASSWORD } });
    expect(login.status).toBe(200);
    const { accessToken, refreshToken } = login.body;

    const me = await request("GET", "/api/auth/me", { token: accessToken });
    expect(me.status).toBe(200);
    expect(me.body.email).toBe(email);

    const verified = await request("GET", "/api/auth/verify", { token: accessToken });
    expect(verified.status).toBe(200);
    expect(verified.body).toMatchObject({ valid: true, kind: "access_token", sub: me.body.id, role: "user" });

    const refreshed = await request("POST", "/api/auth/refresh", { body: { refreshToken } });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refreshToken).not.toBe(refreshToken);
    expect((await request("GET", "/api/auth/verify", { token: refreshed.body.accessToken })).status).toBe(200);
  });

  it("reusing a rotated refresh token revokes the whole family", async () => {
    const email = uniqueEmail("reuse");
    const { body } = await request("POST", "/api/auth/register", { body: { email, password: PASSWORD } });
    const first = body.refreshToken;
    const second = await request("POST", "/api/auth/refresh", { body: { refreshToken: first } });
    expect(second.status).toBe(200);

    const replay = await request("POST", "/api/auth/refresh", { body: { refreshToken: first } });
    expect(replay.status).toBe(401);
    expect(replay.body.error.code).toBe("invalid_refresh_token");

    // The legitimate successor and the session's access tokens die with the family.
    expect((await request("POST", "/api/auth/refresh", { body: { refreshToken: second.body.refreshToken } })).status).toBe(401);
    expect((await request("GET", "/api/auth/verify", { token: second.body.accessToken })).status).toBe(401);
    expect((await request("GET", "/api/auth/verify", { token: body.accessToken })).status).toBe(401);
  });

  it("ten parallel refreshes of one token give exactly one 200", async () => {
    const email = uniqueEmail("race");
    const { body } = await request("POST", "/api/auth/register", { body: { email, password: PASSWORD } });
    const results = await Promise.all(
      Array.from({ length: 10 }, () => request("POST", "/api/auth/refresh", { body: { refreshToken: body.refreshToken } })),
    );
    const statuses = results.map((result) => result.status).sort();
    expect(statuses.filter((status) => status === 200)).toHaveLength(1);
    expect(statuses.filter((status) => status === 401)).toHaveLength(9);
  });

  it("logout revokes the session: the access token and refresh token stop working", async () => {
    const email = uniqueEmail("logout");
    const { body } = await request("POST", "/api/auth/register", { body: { email, password: PASSWORD } });
    const out = await request("POST", "/api/auth/logout", { token: body.accessToken });
    expect(out.status).toBe(204);
    expect((await request("GET", "/api/auth/me", { token: body.accessToken })).status).toBe(401);
    expect((await request("POST", "/api/auth/refresh", { body: { refreshToken: body.refreshToken } })).status).toBe(401);
  });

  it("serves the OpenAPI document and the docs page", async () => {
    const doc = await request("GET", "/openapi.json");
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe("3.1.0");
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(["/api/auth/login", "/api/auth/refresh"]));
  });
});
