import { describe, expect, it } from "vitest";
import { STAGE_INPUTS } from "../helpers/onboarding-inputs";
import { call, uniqueEmail } from "./client";

describe("onboarding against wrangler dev", () => {
  it("register, the five stages, and the key from completion verifies", async () => {
    const { body: session } = await call("POST", "/api/auth/register", {
      body: { email: uniqueEmail("onboarding"), password: "quartz meridian fox lantern" },
    });
    const token = session.accessToken as string;
    expect((await call("GET", "/onboarding/status", { token })).body).toMatchObject({ current: "identity", done: [] });

    for (const input of STAGE_INPUTS) {
      const saved = await call("POST", "/onboarding/complete", { token, body: input });
      expect(saved.status, JSON.stringify(saved.body)).toBe(200);
      expect(saved.body.done).toContain(input.stage);
    }
    const completed = await call("POST", "/api/onboarding/complete", { token, body: { stage: "completion" } });
    expect(completed.status).toBe(200);
    expect(completed.body).toMatchObject({ completed: true, current: null });
    const { key, id } = completed.body.apiKey;
    expect(key).toMatch(/^hdy_[0-9A-Za-z]{49}$/);

    const verified = await call("GET", "/api/auth/verify", { headers: { "X-API-Key": key } });
    expect(verified.status).toBe(200);
    expect(verified.body).toMatchObject({ valid: true, kind: "api_key", sub: session.user.id, keyId: id });

    const again = await call("POST", "/onboarding/complete", { token, body: { stage: "completion" } });
    expect(again.status).toBe(200);
    expect(again.body.apiKey).toBeUndefined();
  });
});
