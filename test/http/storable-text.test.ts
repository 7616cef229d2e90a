import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { listPendingPreferences } from "../../src/memory/pending-preferences";
import { resolveAccount } from "../../src/providers/accounts";
import { registerUser } from "../support/accounts";
import { strongPassword, uniqueEmail } from "../support/fresh";
import type { ApiResponse } from "../support/http";
import { completeStage } from "../support/onboarding";
import { request } from "../support/worker";

/**
 * Free text that no store can hold as given (src/schemas/text.ts): U+0000, which Postgres refuses
 * in `text` and `jsonb` and D1 cuts a text at, and an unpaired surrogate, which has no UTF-8 form.
 * Every route that takes such text answers 400 `invalid_request` naming the field, never a 500,
 * and never stores something else in its place.
 */

const NUL = "Ada\u0000Lovelace";
const LONE_HIGH = "Ada\uD83DLovelace";
const LONE_LOW = "Ada\uDE00Lovelace";
const UNSTORABLE = [
  ["U+0000", NUL, /NUL character \(U\+0000\)/],
  ["a lone high surrogate", LONE_HIGH, /unpaired surrogate/],
  ["a lone low surrogate", LONE_LOW, /unpaired surrogate/],
] as const;

function expectRefused(response: ApiResponse, field: string, message: RegExp): void {
  expect(response.status, response.text).toBe(400);
  expect(response.body.error.code).toBe("invalid_request");
  expect(response.body.error.message).toMatch(new RegExp(`^${field.replaceAll(".", "\\.")}: `));
  expect(response.body.error.message).toMatch(message);
}

describe.each(UNSTORABLE)("text with %s", (_name, text, message) => {
  it("is refused in a memory text and a search query", async () => {
    const user = await registerUser();
    expectRefused(await request("POST", "/api/memory", { token: user.accessToken, body: { content: text } }), "content", message);
    expectRefused(await request("POST", "/api/memory/search", { token: user.accessToken, body: { query: text } }), "query", message);
    const listed = await request("GET", "/api/memory", { token: user.accessToken });
    expect(listed.status, listed.text).toBe(200);
    expect(listed.body.items).toEqual([]);
  });

  it("is refused in the preferences: display name, buddy name and persona", async () => {
    const user = await registerUser();
    const put = (body: unknown) => request("PUT", "/api/memory/preferences", { token: user.accessToken, body });
    expectRefused(await put({ displayName: text }), "displayName", message);
    expectRefused(await put({ buddy: { name: text, tone: "friendly" } }), "buddy.name", message);
    expectRefused(await put({ buddy: { name: "Pip", tone: "friendly", persona: text } }), "buddy.persona", message);
    expect(await listPendingPreferences(database(env.DB), user.userId)).toEqual([]);
    expect((await request("GET", "/api/memory", { token: user.accessToken })).status).toBe(200);
  });

  it("is refused as onboarding's display name and buddy, leaving nothing pending and memory working", async () => {
    const user = await registerUser();
    expectRefused(await completeStage(user, { stage: "identity", data: { displayName: text, locale: "en" } }), "data.displayName", message);
    expect((await completeStage(user, { stage: "identity", data: { displayName: "Ada", locale: "en" } })).status).toBe(200);
    expect((await completeStage(user, { stage: "interests", data: { tags: ["rust"] } })).status).toBe(200);
    expectRefused(
      await completeStage(user, { stage: "buddy_config", data: { name: "Pip", tone: "friendly", persona: text } }),
      "data.persona",
      message,
    );
    // The memory request applies whatever the saved stages left pending, and nothing is left.
    const listed = await request("GET", "/api/memory", { token: user.accessToken });
    expect(listed.status, listed.text).toBe(200);
    expect(listed.body.items[0].preferences).toEqual({ displayName: "Ada", locale: "en", interests: ["rust"] });
    expect(await listPendingPreferences(database(env.DB), user.userId)).toEqual([]);
  });

  it("is refused as the display name at registration, an API key's description and a passkey's name", async () => {
    const email = uniqueEmail("storable");
    expectRefused(
      await request("POST", "/api/auth/register", { body: { email, password: strongPassword(), displayName: text } }),
      "displayName",
      message,
    );
    expect(await env.DB.prepare("SELECT 1 FROM users WHERE email = ?").bind(email).first()).toBeNull();

    const user = await registerUser();
    expectRefused(
      await request("POST", "/api/auth/api-keys", { token: user.accessToken, body: { description: text } }),
      "description",
      message,
    );
    expectRefused(
      await request("POST", "/api/auth/passkeys/register/verify", {
        token: user.accessToken,
        body: { challengeId: crypto.randomUUID(), response: {}, name: text },
      }),
      "name",
      message,
    );
  });
});

describe("storable text", () => {
  it("is stored in NFC, so the same name typed with a combining accent is the same name", async () => {
    const decomposed = "Zoe\u0301 Cafe\u0301";
    const user = await registerUser({ displayName: decomposed });
    expect(user.response.body.user.displayName).toBe("Zoé Café");
    const put = await request("PUT", "/api/memory/preferences", {
      token: user.accessToken,
      body: { displayName: decomposed, interests: ["cafe\u0301", "café"] },
    });
    expect(put.status, put.text).toBe(200);
    expect(put.body.preferences).toEqual({ displayName: "Zoé Café", interests: ["café"] });
  });

  it("keeps characters outside the Basic Multilingual Plane (a surrogate pair is not a lone surrogate)", async () => {
    const user = await registerUser();
    const added = await request("POST", "/api/memory", { token: user.accessToken, body: { content: "Ada likes 🦀 and 𝔪𝔞𝔱𝔥" } });
    expect(added.status, added.text).toBe(201);
    expect(added.body.content).toBe("Ada likes 🦀 and 𝔪𝔞𝔱𝔥");
  });
});

describe("a provider's name as a new account's display name", () => {
  async function signUpWithName(name: string): Promise<string | null> {
    const email = uniqueEmail("provider-name");
    const resolved = await resolveAccount(
      database(env.DB),
      "oidc",
      { subject: crypto.randomUUID(), email, emailVerified: true, name },
      null,
    );
    expect(resolved.outcome).toBe("signed_in");
    const row = await env.DB.prepare("SELECT display_name FROM users WHERE email = ?").bind(email).first<{ display_name: string | null }>();
    return row!.display_name;
  }

  it("is left out when it is not storable text, and the sign-in still goes ahead", async () => {
    expect(await signUpWithName(NUL)).toBeNull();
    expect(await signUpWithName(LONE_LOW)).toBeNull();
  });

  it("is cut to 100 characters without splitting a surrogate pair, and kept in NFC", async () => {
    // 99 characters, then an emoji whose pair would straddle the limit.
    expect(await signUpWithName(`${"a".repeat(99)}🦀 Crab`)).toBe("a".repeat(99));
    expect(await signUpWithName("Zoe\u0301")).toBe("Zoé");
  });
});
