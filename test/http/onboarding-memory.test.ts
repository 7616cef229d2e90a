import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import type { Bindings } from "../../src/env";
import { listPendingPreferences } from "../../src/memory/pending-preferences";
import { runMaintenance } from "../../src/scheduled";
import { registerUser, type SignedIn } from "../support/accounts";
import { ALLOWED_ORIGIN, OTHER_ALLOWED_ORIGIN } from "../support/config";
import { STAGE_INPUTS, saveDataStages } from "../support/onboarding";
import { appWith, request } from "../support/worker";

/**
 * Where onboarding meets user memory: every saved stage becomes the person's memory preferences
 * (through D1 first, so a memory store that is down never fails a stage), and a signed-in widget may
 * read and search that memory from its own origin, and do nothing else with it.
 */

/** What the four stages of STAGE_INPUTS amount to as preferences (canonical locale, tags lower-cased without repeats). */
const ONBOARDED_PREFERENCES = {
  displayName: "Ada Lovelace",
  locale: "en-GB",
  interests: ["rust", "music"],
  buddy: { name: "Pip", tone: "friendly", persona: "Patient and curious" },
  plan: "pro",
};

const memoryPreferences = async (user: SignedIn) => {
  const listed = await request("GET", "/api/memory", { token: user.accessToken });
  expect(listed.status, listed.text).toBe(200);
  return listed.body.items.find((item: { kind: string }) => item.kind === "preferences")?.preferences;
};

describe("onboarding writes its stages into user memory", () => {
  it("each saved stage lands in the person's preferences, and they outlive sign-out", async () => {
    const user = await registerUser();
    await saveDataStages(user);
    expect(await memoryPreferences(user)).toEqual(ONBOARDED_PREFERENCES);
    expect(await listPendingPreferences(database(env.DB), user.userId)).toEqual([]);

    expect((await request("POST", "/api/auth/logout", { token: user.accessToken, body: { refreshToken: user.refreshToken } })).status).toBe(
      204,
    );
    const again = await request<{ accessToken: string; refreshToken: string }>("POST", "/api/auth/login", {
      body: { email: user.email, password: user.password },
    });
    expect(again.status).toBe(200);
    expect(await memoryPreferences({ ...user, accessToken: again.body.accessToken })).toEqual(ONBOARDED_PREFERENCES);
  });

  it("with memory down every stage still saves and completion gives its key; the updates wait in D1 until memory is back", async () => {
    const user = await registerUser();
    const memoryDown = appWith({ ...env, MEMORY_DB: env.MEMORY_DB_DOWN } as Bindings);
    for (const input of [...STAGE_INPUTS, { stage: "completion", data: {} }]) {
      const saved = await request("POST", "/onboarding/complete", { token: user.accessToken, body: input, handler: memoryDown });
      expect(saved.status, saved.text).toBe(200);
      if (input.stage === "completion") expect(saved.body.apiKey.key).toMatch(/^hdy_/);
    }
    expect((await listPendingPreferences(database(env.DB), user.userId)).map((row) => Object.keys(row.patch))).toEqual([
      ["displayName", "locale"],
      ["interests"],
      ["buddy"],
      ["plan"],
    ]);

    await runMaintenance(env); // memory is back: the Cron Trigger applies what waited
    expect(await listPendingPreferences(database(env.DB), user.userId)).toEqual([]);
    expect(await memoryPreferences(user)).toEqual(ONBOARDED_PREFERENCES);
  });
});

describe("a widget token on user memory", () => {
  async function widget(user: SignedIn | undefined): Promise<string> {
    const started = await request("POST", "/api/session/start", {
      ...(user ? { token: user.accessToken } : {}),
      headers: { Origin: ALLOWED_ORIGIN },
    });
    expect(started.status, started.text).toBe(201);
    return started.body.token;
  }
  const asWidget = (method: string, path: string, token: string, body?: unknown, origin = ALLOWED_ORIGIN) =>
    request(method, path, { token, body, headers: { Origin: origin } });

  it("reads and searches its person's memory from its own origin", async () => {
    const user = await registerUser();
    expect(
      (await request("POST", "/api/memory", { token: user.accessToken, body: { content: "Ada prefers Rust for systems work" } })).status,
    ).toBe(201);
    const token = await widget(user);

    const listed = await asWidget("GET", "/api/memory", token);
    expect(listed.status, listed.text).toBe(200);
    expect(listed.body.items.map((item: { content: string }) => item.content)).toContain("Ada prefers Rust for systems work");
    const found = await asWidget("POST", "/api/memory/search", token, { query: "Rust systems", k: 1 });
    expect(found.status, found.text).toBe(200);
    expect(found.body.items[0].content).toBe("Ada prefers Rust for systems work");
  });

  it("is refused from another origin, for a guest, and on every memory write", async () => {
    const user = await registerUser();
    const token = await widget(user);
    expect((await asWidget("GET", "/api/memory", token, undefined, OTHER_ALLOWED_ORIGIN)).status).toBe(403);
    expect((await asWidget("GET", "/api/memory", await widget(undefined))).status).toBe(403);
    for (const [method, path, body] of [
      ["POST", "/api/memory", { content: "planted by a widget" }],
      ["PUT", "/api/memory/preferences", { plan: "team" }],
      ["DELETE", "/api/memory", undefined],
    ] as const) {
      const response = await asWidget(method, path, token, body);
      expect(response.status, `${method} ${path}`).toBe(403);
    }
    expect((await request("GET", "/api/memory", { token: user.accessToken })).body.items).toEqual([]);
  });
});
