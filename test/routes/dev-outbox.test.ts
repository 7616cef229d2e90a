import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import type { Bindings } from "../../src/env";
import { BASE_URL, readResponse, registerUser, request } from "../helpers/identity";
import { PRODUCTION_VARS } from "../helpers/production";

const app = createApp();

async function outboxWith(vars: Record<string, string | undefined>, to: string) {
  const ctx = createExecutionContext();
  const response = await app.fetch(new Request(`${BASE_URL}/api/dev/outbox?to=${encodeURIComponent(to)}`), { ...env, ...vars } as Bindings, ctx);
  await waitOnExecutionContext(ctx);
  return readResponse(response);
}

describe("GET /api/dev/outbox", () => {
  it("shows the mail sent to one address only, newest first", async () => {
    const account = await registerUser();
    const other = await registerUser();
    const response = await request("GET", `/api/dev/outbox?to=${encodeURIComponent(account.email)}`);
    expect(response.status).toBe(200);
    expect(response.body.messages).toHaveLength(1);
    expect(response.body.messages[0]).toMatchObject({ to: account.email, subject: "Confirm your email address" });
    expect(response.text).not.toContain(other.email);
  });

  it("does not exist in production (404), whatever is in D1", async () => {
    const account = await registerUser();
    const production = await outboxWith(
      {
        ...PRODUCTION_VARS,
        MAIL_TRANSPORT: "send_email",
        MAIL_FROM: "no-reply@heady.systems",
      },
      account.email,
    );
    expect(production.status).toBe(404);
    expect(production.body.error.code).toBe("not_found");
    expect(production.text).not.toContain(account.email);
  });

  it("does not exist where mail really goes out, even outside production", async () => {
    const account = await registerUser();
    const response = await outboxWith({ MAIL_TRANSPORT: "send_email", MAIL_FROM: "no-reply@heady.test" }, account.email);
    expect(response.status).toBe(404);
  });

  it("needs a valid address", async () => {
    expect((await request("GET", "/api/dev/outbox?to=nope")).status).toBe(400);
  });
});

describe("production without a mail transport", () => {
  it("answers a reset request 503 misconfigured for every address alike, rather than dropping the mail", async () => {
    const account = await registerUser();
    const answers = [];
    for (const email of [account.email, "nobody-at-all@example.test"]) {
      const ctx = createExecutionContext();
      const response = await app.fetch(
        new Request(`${BASE_URL}/api/auth/password/forgot`, { method: "POST", headers: { "Content-Type": "application/json", "CF-Connecting-IP": "10.9.9.9" }, body: JSON.stringify({ email }) }),
        { ...env, ...PRODUCTION_VARS } as Bindings,
        ctx,
      );
      await waitOnExecutionContext(ctx);
      answers.push(await readResponse(response));
    }
    for (const answer of answers) {
      expect(answer.status).toBe(503);
      expect(answer.body.error.code).toBe("misconfigured");
    }
  });
});
