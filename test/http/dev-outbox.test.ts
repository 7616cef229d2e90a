import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import type { Bindings } from "../../src/env";
import { registerUser } from "../support/accounts";
import { BASE_URL, PRODUCTION_VARS } from "../support/config";
import { readResponse } from "../support/http";
import { request } from "../support/worker";

const app = createApp();

async function outboxWith(vars: Record<string, string | undefined>, to: string) {
  const ctx = createExecutionContext();
  const response = await app.fetch(
    new Request(`${BASE_URL}/api/dev/outbox?to=${encodeURIComponent(to)}`),
    { ...env, ...vars } as Bindings,
    ctx,
  );
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

  it("does not exist in a deployment (404), whatever is in D1", async () => {
    const account = await registerUser();
    for (const environment of ["production", "development"]) {
      const deployed = await outboxWith({ ...PRODUCTION_VARS, ENVIRONMENT: environment }, account.email);
      expect(deployed.status).toBe(404);
      expect(deployed.body.error.code).toBe("not_found");
      expect(deployed.text).not.toContain(account.email);
    }
  });

  it("does not exist where mail really goes out, even in a local run", async () => {
    const account = await registerUser();
    const response = await outboxWith({ MAIL_TRANSPORT: "send_email", MAIL_FROM: "no-reply@heady.test" }, account.email);
    expect(response.status).toBe(404);
  });

  it("hands out nothing in a development deployment without a real mail transport: the Worker is misconfigured (issue 22)", async () => {
    const account = await registerUser();
    for (const transport of [undefined, "outbox"]) {
      const response = await outboxWith(
        { ...PRODUCTION_VARS, ENVIRONMENT: "development", MAIL_TRANSPORT: transport, MAIL_FROM: undefined },
        account.email,
      );
      expect(response.status).toBe(503);
      expect(response.body.error.code).toBe("misconfigured");
      expect(response.text).not.toContain(account.email);
    }
  });

  it("needs a valid address", async () => {
    expect((await request("GET", "/api/dev/outbox?to=nope")).status).toBe(400);
  });
});

describe("a deployment without a real mail transport", () => {
  for (const environment of ["production", "development"]) {
    it(`answers a reset request 503 misconfigured for every address alike (${environment}), rather than keeping the link in the outbox or dropping it`, async () => {
      const account = await registerUser();
      const answers = [];
      for (const email of [account.email, "nobody-at-all@example.test"]) {
        const ctx = createExecutionContext();
        const response = await app.fetch(
          new Request(`${BASE_URL}/api/auth/password/forgot`, {
            method: "POST",
            headers: { "Content-Type": "application/json", "CF-Connecting-IP": "10.9.9.9" },
            body: JSON.stringify({ email }),
          }),
          { ...env, ...PRODUCTION_VARS, ENVIRONMENT: environment, MAIL_TRANSPORT: undefined, MAIL_FROM: undefined } as Bindings,
          ctx,
        );
        await waitOnExecutionContext(ctx);
        answers.push(await readResponse(response));
      }
      for (const answer of answers) {
        expect(answer.status).toBe(503);
        expect(answer.body.error.code).toBe("misconfigured");
      }
      // Nothing reached the outbox, where anyone could have read it.
      expect(
        (await request("GET", `/api/dev/outbox?to=${encodeURIComponent(account.email)}`)).body.messages.map(
          (m: { subject: string }) => m.subject,
        ),
      ).toEqual(["Confirm your email address"]);
    });
  }
});
