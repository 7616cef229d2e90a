import { HeadyPQCClient, HeadyPQCError } from "headykey-edge/pqc-client";
import { describe, expect, inject, it } from "vitest";
import { baseUrl, request } from "../support/e2e/client";
import { uniqueEmail } from "../support/fresh";

/**
 * The exported client (`headykey-edge/pqc-client`) against wrangler dev, whose PQC tokens live 60 s
 * (test/support/e2e/wrangler-dev.ts): it renews at 80 % of the life, and the token it held before expires
 * at the Worker while the renewed one goes on working.
 */

const payload = (token: string) =>
  JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()) as { jti: string; iat: number; exp: number };
const sleepUntil = (epochMs: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, epochMs - Date.now())));

describe("HeadyPQCClient against wrangler dev", () => {
  it("caches and shares, renews at 80 % of a 60 s life, and the old token then expires at the Worker", { timeout: 120_000 }, async () => {
    const { body: user } = await request("POST", "/api/auth/register", {
      body: { email: uniqueEmail("pqc-client"), password: "violet harbour sextant owl" },
    });
    let tokenRequests = 0;
    const client = new HeadyPQCClient({
      baseUrl: baseUrl(),
      credential: user.accessToken,
      fetch: (input, init) => {
        if (String(input instanceof Request ? input.url : input).endsWith("/api/auth/request-pqc-token")) tokenRequests += 1;
        return fetch(input, init);
      },
    });

    const tokens = await Promise.all(Array.from({ length: 8 }, () => client.token("headyme", "sync")));
    // The client dates a token by its own clock when the answer arrives, no later than now: under load
    // that can be over a second after the Worker's (whole-second) iat, so renewal is timed from here.
    const receivedAt = Date.now();
    expect(new Set(tokens).size).toBe(1);
    expect(tokenRequests).toBe(1);
    const first = tokens[0]!;
    const { iat, exp } = payload(first);
    expect(exp - iat).toBe(inject("pqcTokenTtlSeconds"));

    const verified = await client.fetch("headyme", "sync", `${baseUrl()}/api/auth/verify`);
    expect(verified.status).toBe(200);
    expect(await verified.json()).toMatchObject({ valid: true, kind: "pqc_token", jti: payload(first).jti });

    // Before 80 %: still the same token, no request.
    await sleepUntil(iat * 1000 + (exp - iat) * 1000 * 0.7);
    expect(await client.token("headyme", "sync")).toBe(first);
    expect(tokenRequests).toBe(1);

    // Past 80 % of the life the client counts from its own receipt (plus a second for the clocks' rounding): a new token.
    await sleepUntil(Math.max(iat * 1000, receivedAt) + (exp - iat) * 1000 * 0.8 + 1000);
    const renewed = await client.token("headyme", "sync");
    expect(payload(renewed).jti).not.toBe(payload(first).jti);
    expect(tokenRequests).toBe(2);

    // After the first token's exp the Worker refuses it; the client's current one passes.
    await sleepUntil(exp * 1000 + 1500);
    const expired = await request("GET", "/api/auth/verify", { headers: { "X-Heady-PQC-Token": first } });
    expect(expired.status).toBe(401);
    const current = await client.fetch("headyme", "sync", `${baseUrl()}/api/auth/verify`);
    expect(current.status).toBe(200);
    expect(await current.json()).toMatchObject({ jti: payload(renewed).jti });
  });

  it("references instead of tokens, and a refusal that is not retried", async () => {
    const { body: user } = await request("POST", "/api/auth/register", {
      body: { email: uniqueEmail("pqc-client"), password: "violet harbour sextant owl" },
    });
    const client = new HeadyPQCClient({ baseUrl: baseUrl(), credential: user.accessToken, references: true });
    const reference = await client.token("headyme", "sync");
    expect(reference).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const verified = await client.fetch("headyme", "sync", `${baseUrl()}/api/auth/verify`);
    expect(await verified.json()).toMatchObject({ valid: true, reference: true });

    const started = Date.now();
    const refused = await client.token("admin", "manage").catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(HeadyPQCError);
    expect(refused).toMatchObject({ status: 403, code: "forbidden" });
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
