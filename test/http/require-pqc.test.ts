import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Hono } from "hono";
import { beforeAll, describe, expect, it } from "vitest";
import type { AppEnv } from "../../src/context";
import { renderError } from "../../src/error-handler";
import { requestContext } from "../../src/middleware/request-context";
import { requirePQC } from "../../src/middleware/require-pqc";
import { registerUser, type SignedIn, userWithRole } from "../support/accounts";
import type { Handler, RequestOptions } from "../support/http";
import { pqcClaims, requestPqcToken, signPqc } from "../support/pqc";
import { decodeHeader, decodePayload, flipSignatureByte } from "../support/tokens";
import { request } from "../support/worker";

/** requirePQC("headyme", "sync") on a small app with the project's request context and error renderer. */

const app = new Hono<AppEnv>();
app.use("*", requestContext());
app.post("/sync", requirePQC("headyme", "sync"), (c) => c.json({ ok: true, principal: c.get("principal") }));
app.onError(renderError);

const handler: Handler = async (request) => {
  const ctx = createExecutionContext();
  const response = await app.fetch(request, env, ctx);
  await waitOnExecutionContext(ctx);
  return response;
};
const sync = (options: RequestOptions = {}) => request("POST", "/sync", { ...options, handler });

let user: SignedIn;
beforeAll(async () => {
  user = await registerUser();
});

async function issue(account: SignedIn, service: string, operation: string, reference = false): Promise<string> {
  const response = await requestPqcToken({ service, operation, reference }, { token: account.accessToken });
  expect(response.status, response.text).toBe(200);
  return reference ? response.body.reference : response.body.pqcToken;
}

describe("requirePQC(headyme, sync)", () => {
  it("without a PQC credential: 401 pqc_required, naming headyme/sync", async () => {
    const response = await sync();
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe("pqc_required");
    expect(response.body.error.message).toContain("headyme/sync");
    expect(response.headers.get("WWW-Authenticate")).toBe('Bearer realm="heady", scope="pqc:headyme/sync"');
    expect(response.body.error.requestId).toBe(response.headers.get("X-Request-Id"));
  });

  it("an access token is not a PQC credential: still pqc_required", async () => {
    const response = await sync({ token: user.accessToken });
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe("pqc_required");
  });

  it("a PQC token for another operation of headyme: 403 pqc_scope_mismatch, naming both", async () => {
    const response = await sync({ pqc: await issue(user, "headyme", "privileged-operation") });
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe("pqc_scope_mismatch");
    expect(response.body.error.message).toBe(
      "This route requires a PQC token for headyme/sync; the token is for headyme/privileged-operation.",
    );
    expect(response.headers.get("WWW-Authenticate")).toBe('Bearer error="insufficient_scope", scope="pqc:headyme/sync"');
  });

  it("a PQC token for another service: 403 pqc_scope_mismatch, naming it", async () => {
    const admin = await userWithRole("admin");
    const response = await sync({ token: await issue(admin, "admin", "manage") });
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe("pqc_scope_mismatch");
    expect(response.body.error.message).toContain("requires a PQC token for headyme/sync");
    expect(response.body.error.message).toContain("admin/manage");
  });

  it("a valid headyme/sync token: 200, with the PQC principal on the context", async () => {
    const token = await issue(user, "headyme", "sync");
    for (const response of [await sync({ pqc: token }), await sync({ token })]) {
      expect(response.status, response.text).toBe(200);
      expect(response.body).toEqual({
        ok: true,
        principal: {
          kind: "pqc_token",
          userId: user.userId,
          email: "",
          role: "user",
          service: "headyme",
          operation: "sync",
          permissions: ["sync:read", "sync:write"],
          jti: decodePayload(token).jti,
          kid: decodeHeader(token).kid,
          expiresAt: decodePayload(token).exp,
          viaReference: false,
        },
      });
    }
  });

  it("a valid headyme/sync reference: 200 via the reference", async () => {
    const response = await sync({ pqc: await issue(user, "headyme", "sync", true) });
    expect(response.status, response.text).toBe(200);
    expect(response.body.principal).toMatchObject({ service: "headyme", operation: "sync", viaReference: true });
  });

  it("an invalid or expired headyme/sync token: 401 invalid_token, not 403", async () => {
    const token = await issue(user, "headyme", "sync");
    const tampered = await sync({ pqc: flipSignatureByte(token) });
    expect(tampered.status).toBe(401);
    expect(tampered.body.error.code).toBe("invalid_token");

    const now = Math.floor(Date.now() / 1000);
    const expired = await sync({
      pqc: await signPqc(pqcClaims({ sub: user.userId }, "headyme", "sync", { iat: now - 400, exp: now - 100 })),
    });
    expect(expired.status).toBe(401);
    expect(expired.body.error.code).toBe("invalid_token");
  });

  it("a wrong-service token is refused even when it is valid and signed by the Worker's key", async () => {
    const forged = await signPqc(pqcClaims({ sub: user.userId }, "production", "deploy", { role: "operator" }));
    const response = await sync({ pqc: forged });
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe("pqc_scope_mismatch");
  });

  it("refuses to be built for names that are not lower-case service/operation names", () => {
    expect(() => requirePQC("HeadyMe", "sync")).toThrow(TypeError);
    expect(() => requirePQC("headyme", "")).toThrow(TypeError);
    expect(() => requirePQC("headyme", "sync/all")).toThrow(TypeError);
  });
});
