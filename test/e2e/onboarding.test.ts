import { describe, expect, it } from "vitest";
import { request } from "../support/e2e/client";
import { uniqueEmail } from "../support/fresh";
import { STAGE_INPUTS } from "../support/onboarding-inputs";

/** The first of wrangler.toml's ALLOWED_ORIGINS, which wrangler dev runs with. */
const WIDGET_ORIGIN = "http://localhost:5173";

describe("onboarding against wrangler dev", () => {
  it("register, the five stages, and the key from completion verifies", async () => {
    const { body: session } = await request("POST", "/api/auth/register", {
      body: { email: uniqueEmail("onboarding"), password: "quartz meridian fox lantern" },
    });
    const token = session.accessToken as string;
    expect((await request("GET", "/onboarding/status", { token })).body).toMatchObject({ current: "identity", done: [] });

    for (const input of STAGE_INPUTS) {
      const saved = await request("POST", "/onboarding/complete", { token, body: input });
      expect(saved.status, JSON.stringify(saved.body)).toBe(200);
      expect(saved.body.done).toContain(input.stage);
    }
    const completed = await request("POST", "/api/onboarding/complete", { token, body: { stage: "completion" } });
    expect(completed.status).toBe(200);
    expect(completed.body).toMatchObject({ completed: true, current: null });
    const { key, id } = completed.body.apiKey;
    expect(key).toMatch(/^hdy_[0-9A-Za-z]{49}$/);

    const verified = await request("GET", "/api/auth/verify", { headers: { "X-API-Key": key } });
    expect(verified.status).toBe(200);
    expect(verified.body).toMatchObject({ valid: true, kind: "api_key", sub: session.user.id, keyId: id });

    const again = await request("POST", "/onboarding/complete", { token, body: { stage: "completion" } });
    expect(again.status).toBe(200);
    expect(again.body.apiKey).toBeUndefined();
  });

  it("a widget session started from an allowed origin reads the profile from that origin only", async () => {
    const { body: session } = await request("POST", "/api/auth/register", {
      body: { email: uniqueEmail("widget"), password: "quartz meridian fox lantern" },
    });
    const started = await request("POST", "/api/session/start", { token: session.accessToken, headers: { Origin: WIDGET_ORIGIN } });
    expect(started.status).toBe(201);
    expect(started.body).toMatchObject({ tokenType: "Bearer", origin: WIDGET_ORIGIN, role: "user", sub: session.user.id, expiresIn: 900 });
    // CORS answers the page: its exact origin (never with credentials: the widget sends a bearer token).
    expect(started.headers.get("Access-Control-Allow-Origin")).toBe(WIDGET_ORIGIN);

    const me = await request("GET", "/api/auth/me", { token: started.body.token, headers: { Origin: WIDGET_ORIGIN } });
    expect(me.status).toBe(200);
    expect(me.body.id).toBe(session.user.id);
    const elsewhere = await request("GET", "/api/auth/me", { token: started.body.token, headers: { Origin: "http://127.0.0.1:5173" } });
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.body.error.code).toBe("origin_not_allowed");
    expect((await request("GET", "/api/auth/me", { token: started.body.token })).status).toBe(403);
  });
});
