import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Hono } from "hono";
import { beforeAll, describe, expect, it } from "vitest";
import api from "../../docs/api.md?raw";
import type { AppEnv } from "../../src/context";
import {
  CREDENTIAL_KINDS,
  type CredentialKind,
  ROUTE_CREDENTIALS,
  routeCredentialsTable,
  type StateFreshness,
} from "../../src/credentials/route-credentials";
import { renderError } from "../../src/error-handler";
import { authenticate } from "../../src/middleware/authenticate";
import { requestContext } from "../../src/middleware/request-context";
import { requireRole } from "../../src/middleware/require-role";
import { apiKeyFor, HASHING_HEAVY, registerUser, type SignedIn, userWithRole } from "../support/accounts";
import type { RequestOptions } from "../support/http";
import { requestPqcToken } from "../support/pqc";
import { request } from "../support/worker";

/**
 * A scoped credential (a PQC token for one service operation) is no general identity credential,
 * and an API key does only what a scope grants it: each route accepts the kinds its row of
 * ROUTE_CREDENTIALS names, and docs/api.md shows that same table.
 */

let admin: SignedIn;
let user: SignedIn;
/** An admin's headyme/sync PQC token and a reference to another one. */
let adminPqc: string;
let adminPqcReference: string;
let userPqc: string;
/** An API key with the admin role (its owner is an admin) and every scope an admin can grant it. */
let adminKey: string;

beforeAll(async () => {
  [admin, user] = await Promise.all([userWithRole("admin"), registerUser()]);
  const issued = await requestPqcToken({ service: "headyme", operation: "sync" }, { token: admin.accessToken });
  adminPqc = issued.body.pqcToken;
  adminPqcReference = (await requestPqcToken({ service: "headyme", operation: "sync", reference: true }, { token: admin.accessToken })).body
    .reference;
  userPqc = (await requestPqcToken({ service: "headyme", operation: "sync" }, { token: user.accessToken })).body.pqcToken;
  adminKey = await apiKeyFor(admin, ["pqc", "sync:read"], "admin");
  expect([adminPqc, adminPqcReference, userPqc, adminKey].every(Boolean)).toBe(true);
}, HASHING_HEAVY.timeout);

const refusedKind = (response: { status: number; body: any }) => {
  expect(response.status).toBe(403);
  expect(response.body.error.code).toBe("forbidden");
  return response.body.error.message as string;
};

describe("a PQC token (or its reference) is not a general identity credential", () => {
  const asPqc = (credential: string): RequestOptions => ({ pqc: credential });

  it("cannot create API keys, nor read the profile", async () => {
    for (const credential of [userPqc, adminPqc, adminPqcReference]) {
      expect(
        refusedKind(await request("POST", "/api/auth/api-keys", { ...asPqc(credential), body: { description: "escalation" } })),
      ).toMatch(/PQC token/);
      refusedKind(await request("GET", "/api/auth/api-keys", asPqc(credential)));
      refusedKind(await request("GET", "/api/auth/me", asPqc(credential)));
    }
    // As a bearer token too.
    refusedKind(await request("POST", "/api/auth/api-keys", { token: userPqc, body: { description: "escalation" } }));
  });

  it("an admin's one passes no admin, audit or SAGE route", async () => {
    const target = await registerUser();
    for (const credential of [adminPqc, adminPqcReference]) {
      refusedKind(await request("GET", "/api/admin/users", asPqc(credential)));
      refusedKind(await request("PUT", `/api/admin/users/${target.userId}/role`, { ...asPqc(credential), body: { role: "operator" } }));
      refusedKind(await request("POST", `/api/admin/users/${target.userId}/disable`, asPqc(credential)));
      refusedKind(await request("GET", "/api/audit/events", asPqc(credential)));
      refusedKind(await request("GET", "/api/audit/verify", asPqc(credential)));
      refusedKind(await request("POST", "/api/sage/revoke", { ...asPqc(credential), body: { node_id: "n1" } }));
      refusedKind(await request("POST", "/api/sage/token", { ...asPqc(credential), body: { node_id: "n1", role: "ui" } }));
      refusedKind(
        await request("POST", "/api/auth/request-pqc-token", { ...asPqc(credential), body: { service: "headyme", operation: "sync" } }),
      );
      refusedKind(await request("POST", "/api/auth/logout", asPqc(credential)));
    }
  });

  it("is still answered by /api/auth/verify", async () => {
    for (const credential of [adminPqc, adminPqcReference]) {
      const verified = await request("GET", "/api/auth/verify", asPqc(credential));
      expect(verified.status).toBe(200);
      expect(verified.body).toMatchObject({ kind: "pqc_token", service: "headyme", operation: "sync" });
    }
  });
});

describe("an API key does only what its kind and scopes allow", () => {
  it("an admin-role key passes no admin, audit or node-revocation route, and cannot sign out", async () => {
    const target = await registerUser();
    const asKey = { apiKey: adminKey };
    expect(refusedKind(await request("GET", "/api/admin/users", asKey))).toMatch(/API key/);
    refusedKind(await request("PUT", `/api/admin/users/${target.userId}/role`, { ...asKey, body: { role: "operator" } }));
    refusedKind(await request("POST", `/api/admin/users/${target.userId}/disable`, asKey));
    refusedKind(await request("GET", "/api/audit/events", asKey));
    refusedKind(await request("POST", "/api/sage/revoke", { ...asKey, body: { node_id: "n1" } }));
    refusedKind(await request("POST", "/api/auth/logout", asKey));
    refusedKind(await request("GET", `/api/audit/receipts/${crypto.randomUUID()}`, asKey));
    refusedKind(await request("GET", `/api/audit/receipts/${crypto.randomUUID()}`, { pqc: adminPqc }));
  });

  it("an operator-role key without a sage:bootstrap scope gets no node token", async () => {
    const operator = await userWithRole("operator");
    const key = await apiKeyFor(operator, ["pqc"], "operator");
    const refused = await request("POST", "/api/sage/token", { apiKey: key, body: { node_id: "n1", role: "governor" } });
    expect(refusedKind(refused)).toMatch(/sage:bootstrap/);
  });

  it("may read its owner's profile and verify itself", async () => {
    expect((await request("GET", "/api/auth/me", { apiKey: adminKey })).body.id).toBe(admin.userId);
    expect((await request("GET", "/api/auth/verify", { apiKey: adminKey })).body.kind).toBe("api_key");
  });
});

describe("the middleware take their accepted kinds explicitly", () => {
  function app() {
    const hono = new Hono<AppEnv>();
    hono.use("*", requestContext());
    hono.get("/role", requireRole("user", ROUTE_CREDENTIALS.admin), (c) => c.json({ kind: c.get("principal").kind }));
    hono.get("/any", authenticate(ROUTE_CREDENTIALS.verify), (c) => c.json({ kind: c.get("principal").kind }));
    hono.onError(renderError);
    return hono;
  }
  async function callApp(path: string, headers: Record<string, string>) {
    const ctx = createExecutionContext();
    const response = await app().request(path, { headers }, env, ctx);
    await waitOnExecutionContext(ctx);
    return { status: response.status, body: (await response.json()) as any };
  }

  it("requireRole does not take a PQC token as a session, whatever role it names", async () => {
    refusedKind(await callApp("/role", { "X-Heady-PQC-Token": adminPqc }));
    expect((await callApp("/role", { Authorization: `Bearer ${user.accessToken}` })).body).toEqual({ kind: "access_token" });
    expect((await callApp("/any", { "X-Heady-PQC-Token": adminPqc })).body).toEqual({ kind: "pqc_token" });
  });

  it("refuse to build without a valid list of kinds or a known state freshness", () => {
    expect(() => authenticate({ accept: [], state: "current" })).toThrow(TypeError);
    expect(() => authenticate({ accept: ["password" as CredentialKind], state: "current" })).toThrow(TypeError);
    expect(() => requireRole("user", { accept: [], state: "current" })).toThrow(TypeError);
    expect(() => authenticate({ accept: ["api_key"], state: "stale" as StateFreshness })).toThrow(TypeError);
  });
});

describe("ROUTE_CREDENTIALS is the one table", () => {
  it("names only known kinds, and /api/auth/verify accepts every kind", () => {
    for (const row of Object.values(ROUTE_CREDENTIALS)) for (const kind of row.accept) expect(CREDENTIAL_KINDS).toContain(kind);
    expect([...ROUTE_CREDENTIALS.verify.accept].sort()).toEqual([...CREDENTIAL_KINDS].sort());
  });

  it("docs/api.md shows exactly the table the code enforces", () => {
    expect(api).toContain(routeCredentialsTable());
  });
});
