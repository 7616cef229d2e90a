import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { API_KEY_PATTERN } from "../../src/crypto/api-key";
import { PLANS } from "../../src/onboarding/plans";
import { preferencesFromStage } from "../../src/onboarding/preferences";
import { STAGES } from "../../src/onboarding/stages";
import { apiKeyFor, registerUser, type SignedIn, userWithRole } from "../support/accounts";
import { auditEvents } from "../support/audit";
import { BASE_URL } from "../support/config";
import { completeStage, MOUNTS, onboardingStatus, STAGE_INPUTS, saveDataStages } from "../support/onboarding";
import { requestPqcToken } from "../support/pqc";
import { request } from "../support/worker";

const onboardingKeys = async (user: SignedIn) => {
  const { results } = await env.DB.prepare("SELECT id, description FROM api_keys WHERE user_id = ? AND description = 'Onboarding key'")
    .bind(user.userId)
    .all<{ id: string }>();
  return results;
};

describe("GET /onboarding/status", () => {
  it("starts at identity, with every stage and plan listed, on both mounts", async () => {
    const user = await registerUser();
    for (const mount of MOUNTS) {
      const status = await onboardingStatus(user, {}, mount);
      expect(status.status).toBe(200);
      expect(status.body).toEqual({
        stages: [...STAGES],
        done: [],
        current: "identity",
        next: "interests",
        completed: false,
        data: {},
        plans: PLANS.map(({ id, name, summary }) => ({ id, name, summary })),
      });
    }
  });

  it("works with the session cookie too", async () => {
    const user = await registerUser();
    const status = await onboardingStatus(user, { cookie: user.cookie });
    expect(status.status).toBe(200);
    expect(status.body.current).toBe("identity");
  });
});

describe("POST /onboarding/complete", () => {
  it("takes the five stages in order, saves canonical data, and completion answers a working key once", async () => {
    const user = await registerUser();
    const steps = [];
    for (const [index, input] of STAGE_INPUTS.entries()) {
      // Alternate the mounts: they are the same handlers on the same state.
      const response = await completeStage(user, input, {}, MOUNTS[index % 2]);
      expect(response.status, response.text).toBe(200);
      expect(response.body.apiKey).toBeUndefined();
      steps.push(response.body);
    }
    expect(steps.map((step) => [step.current, step.next])).toEqual([
      ["interests", "buddy_config"],
      ["buddy_config", "plan"],
      ["plan", "completion"],
      ["completion", null],
    ]);
    expect(steps[3].data).toEqual({
      identity: { displayName: "Ada Lovelace", locale: "en-GB" },
      interests: { tags: ["rust", "music"] },
      buddy_config: { name: "Pip", tone: "friendly", persona: "Patient and curious" },
      plan: { plan: "pro" },
    });

    const completed = await completeStage(user, { stage: "completion" });
    expect(completed.status).toBe(200);
    expect(completed.headers.get("Cache-Control")).toBe("no-store");
    expect(completed.body).toMatchObject({ done: [...STAGES], current: null, next: null, completed: true });
    const apiKey = completed.body.apiKey;
    expect(apiKey).toMatchObject({ name: "Onboarding key", role: "user", scopes: [], expiresAt: null });
    expect(apiKey.key).toMatch(API_KEY_PATTERN);
    expect(apiKey.prefix).toBe(apiKey.key.slice(0, 12));
    expect(Date.parse(apiKey.createdAt)).toBeGreaterThan(Date.now() - 60_000);

    const verified = await request("GET", "/api/auth/verify", { headers: { "X-API-Key": apiKey.key } });
    expect(verified.status).toBe(200);
    expect(verified.body).toMatchObject({ kind: "api_key", sub: user.userId, keyId: apiKey.id });
    const listed = await request("GET", "/api/auth/api-keys", { token: user.accessToken });
    expect(listed.body.keys.map((key: { id: string; description: string }) => [key.id, key.description])).toEqual([
      [apiKey.id, "Onboarding key"],
    ]);

    // Sent again: the same status, without a key, and no second key.
    const again = await completeStage(user, { stage: "completion", data: {} }, {}, MOUNTS[1]);
    expect(again.status).toBe(200);
    expect(again.body.completed).toBe(true);
    expect(again.body.apiKey).toBeUndefined();
    expect(await onboardingKeys(user)).toHaveLength(1);
  });

  it("records every saved stage, the completion and the key in the audit ledger", async () => {
    const user = await registerUser();
    await saveDataStages(user);
    const { body } = await completeStage(user, { stage: "completion" });
    const saved = await auditEvents({ subject: user.userId, type: "onboarding.stage_saved" }, { atLeast: 4 });
    expect(saved.map((event) => event.details.stage)).toEqual(["identity", "interests", "buddy_config", "plan"]);
    const [completed] = await auditEvents({ subject: user.userId, type: "onboarding.completed" });
    expect(completed!.details.apiKeyId).toBe(body.apiKey.id);
    const [created] = await auditEvents({ subject: body.apiKey.id, type: "api_key.created" });
    expect(created!.actor).toBe(user.userId);
    expect(created!.details.via).toBe("onboarding");
    expect(JSON.stringify(created)).not.toContain(body.apiKey.key.slice(12));
  });

  it("refuses a stage later than the current one with 409 naming the stage expected, and stores nothing", async () => {
    const user = await registerUser();
    for (const body of [STAGE_INPUTS[3], { stage: "completion" }]) {
      const refused = await completeStage(user, body);
      expect(refused.status).toBe(409);
      expect(refused.body.error.code).toBe("onboarding_out_of_order");
      expect(refused.body.error.message).toMatch(/"identity"/);
    }
    await completeStage(user, STAGE_INPUTS[0]);
    const skipped = await completeStage(user, STAGE_INPUTS[2]);
    expect(skipped.status).toBe(409);
    expect(skipped.body.error.message).toMatch(/complete "interests"/);
    expect((await onboardingStatus(user)).body).toMatchObject({ done: ["identity"], current: "interests" });
    expect(await onboardingKeys(user)).toHaveLength(0);
  });

  it("saves a done stage again: the same data leaves the same state, new data replaces it", async () => {
    const user = await registerUser();
    await completeStage(user, STAGE_INPUTS[0]);
    await completeStage(user, STAGE_INPUTS[1]);
    const before = (await onboardingStatus(user)).body;
    const same = await completeStage(user, STAGE_INPUTS[0]);
    expect(same.status).toBe(200);
    expect(same.body).toEqual(before);
    const changed = await completeStage(user, { stage: "identity", data: { displayName: "Ada K.", locale: "fr" } });
    expect(changed.body.data.identity).toEqual({ displayName: "Ada K.", locale: "fr" });
    expect(changed.body.done).toEqual(["identity", "interests"]);
    expect(changed.body.current).toBe("buddy_config");
  });

  it("answers 400 naming the field for invalid data", async () => {
    const user = await registerUser();
    await saveDataStages(user);
    const cases: [unknown, RegExp][] = [
      [{ stage: "identity", data: { displayName: "", locale: "en" } }, /data\.displayName/],
      [{ stage: "identity", data: { displayName: "Ada", locale: "not a locale!" } }, /data\.locale/],
      [{ stage: "identity", data: { displayName: "Ada" } }, /data\.locale/],
      [{ stage: "interests", data: { tags: [] } }, /data\.tags/],
      [{ stage: "interests", data: { tags: Array.from({ length: 21 }, (_, i) => `tag${i}`) } }, /data\.tags/],
      [{ stage: "buddy_config", data: { name: "Pip", tone: "grumpy" } }, /data\.tone/],
      [{ stage: "buddy_config", data: { name: "Pip", tone: "friendly", extra: 1 } }, /data/],
      [{ stage: "plan", data: { plan: "enterprise" } }, /data\.plan/],
      [{ stage: "identity" }, /data/],
      [{ stage: "welcome", data: {} }, /stage/],
      [{ stage: "completion", data: { anything: true } }, /data/],
    ];
    for (const [body, field] of cases) {
      const response = await completeStage(user, body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.error.code).toBe("invalid_request");
      expect(response.body.error.message, JSON.stringify(body)).toMatch(field);
    }
    const notJson = await request("POST", "/onboarding/complete", {
      token: user.accessToken,
      rawBody: "{",
      headers: { "Content-Type": "application/json" },
    });
    expect(notJson.status).toBe(400);
    // Nothing of it was saved: the stages hold what saveDataStages sent.
    expect((await onboardingStatus(user)).body.data.plan).toEqual({ plan: "pro" });
  });

  it("creates the key exactly once when completions race", async () => {
    const user = await registerUser();
    await saveDataStages(user);
    const responses = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        completeStage(user, { stage: "completion" }, i % 2 ? { cookie: user.cookie, headers: { Origin: BASE_URL } } : {}, MOUNTS[i % 2]),
      ),
    );
    expect(responses.map((response) => response.status)).toEqual(Array(6).fill(200));
    const withKey = responses.filter((response) => response.body.apiKey !== undefined);
    expect(withKey).toHaveLength(1);
    expect(responses.every((response) => response.body.completed === true)).toBe(true);
    const keys = await onboardingKeys(user);
    expect(keys.map((key) => key.id)).toEqual([withKey[0]!.body.apiKey.id]);
    expect(await auditEvents({ subject: user.userId, type: "onboarding.completed" })).toHaveLength(1);
  });

  it("creates no key when a completion races the stage before it", async () => {
    const user = await registerUser();
    for (const input of STAGE_INPUTS.slice(0, 3)) await completeStage(user, input);
    const [plan, completion] = await Promise.all([completeStage(user, STAGE_INPUTS[3]), completeStage(user, { stage: "completion" })]);
    expect(plan.status).toBe(200);
    // Either order is possible; what may not happen is a key without every stage before it.
    if (completion.status === 200) expect(completion.body.done).toEqual([...STAGES]);
    else expect(completion.body.error.code).toBe("onboarding_out_of_order");
    expect(await onboardingKeys(user)).toHaveLength(completion.status === 200 ? 1 : 0);
  });
});

describe("who may onboard", () => {
  it("needs a signed-in user: none is 401, an API key or a PQC token is 403, on both mounts", async () => {
    const user = await registerUser();
    const key = await apiKeyFor(user, ["pqc"]);
    const pqc = (await requestPqcToken({ service: "headyme", operation: "sync" }, { token: user.accessToken })).body.pqcToken as string;
    for (const mount of MOUNTS) {
      expect((await request("GET", `${mount}/status`)).status).toBe(401);
      expect((await request("POST", `${mount}/complete`, { body: STAGE_INPUTS[0] })).status).toBe(401);
      const credentials: Record<string, string>[] = [{ "X-API-Key": key }, { "X-Heady-PQC-Token": pqc }];
      for (const headers of credentials) {
        const status = await onboardingStatus(user, { headers }, mount);
        expect(status.status).toBe(403);
        expect(status.body.error.code).toBe("forbidden");
        expect((await completeStage(user, STAGE_INPUTS[0], { headers }, mount)).status).toBe(403);
      }
    }
    expect((await onboardingStatus(user)).body.done).toEqual([]);
  });

  it("refuses a guest, who may not hold an API key", async () => {
    const guest = await userWithRole("guest");
    expect((await onboardingStatus(guest)).status).toBe(403);
  });

  it("keeps each person's stages their own", async () => {
    const [ada, bob] = await Promise.all([registerUser(), registerUser()]);
    await saveDataStages(ada);
    expect((await onboardingStatus(bob)).body).toMatchObject({ done: [], data: {} });
  });

  it("an admin's key from completion is a user key", async () => {
    const admin = await userWithRole("admin");
    await saveDataStages(admin);
    const completed = await completeStage(admin, { stage: "completion" });
    expect(completed.body.apiKey.role).toBe("user");
  });
});

describe("the reference (/openapi.json)", () => {
  it("lists onboarding once, at the canonical /onboarding paths, while both mounts answer", async () => {
    const { paths } = (await request("GET", "/openapi.json")).body as { paths: Record<string, Record<string, unknown>> };
    const operations = Object.entries(paths)
      .filter(([path]) => path.includes("onboarding"))
      .flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`));
    expect(operations.sort()).toEqual(["GET /onboarding/status", "POST /onboarding/complete"]);

    const user = await registerUser();
    for (const mount of MOUNTS) {
      expect((await onboardingStatus(user, {}, mount)).status).toBe(200);
      const invalid = await completeStage(user, { stage: "identity", data: { displayName: "", locale: "en" } }, {}, mount);
      expect(invalid.status).toBe(400);
      expect(invalid.body.error.code).toBe("invalid_request");
    }
  });
});

describe("preferencesFromStage", () => {
  it("maps each data stage onto the memory preferences, and completion onto none", () => {
    expect(preferencesFromStage("identity", { displayName: "Ada", locale: "en-GB" })).toEqual({ displayName: "Ada", locale: "en-GB" });
    expect(preferencesFromStage("interests", { tags: ["rust"] })).toEqual({ interests: ["rust"] });
    const buddy = { name: "Pip", tone: "concise" as const, persona: "" };
    expect(preferencesFromStage("buddy_config", buddy)).toEqual({ buddy });
    expect(preferencesFromStage("plan", { plan: "team" })).toEqual({ plan: "team" });
    expect(preferencesFromStage("completion", {})).toBeNull();
  });
});
