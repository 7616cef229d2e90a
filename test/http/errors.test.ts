import { describe, expect, it } from "vitest";
import { MAX_BODY_BYTES } from "../../src/app";
import { ERROR_STATUS } from "../../src/errors";
import { registerUser } from "../support/accounts";
import type { ApiResponse } from "../support/http";
import { request } from "../support/worker";

/** Asserts the one error envelope, that its requestId is the X-Request-Id, and returns the code. */
function expectEnvelope(response: ApiResponse, status: number, code: keyof typeof ERROR_STATUS) {
  expect(response.status).toBe(status);
  expect(response.headers.get("Content-Type")).toMatch(/^application\/json/);
  expect(Object.keys(response.body)).toEqual(["error"]);
  expect(Object.keys(response.body.error).sort()).toEqual(["code", "message", "requestId"]);
  expect(response.body.error.code).toBe(code);
  expect(ERROR_STATUS[code]).toBe(status);
  expect(typeof response.body.error.message).toBe("string");
  expect(response.body.error.message.length).toBeGreaterThan(0);
  expect(response.body.error.requestId).toBe(response.headers.get("X-Request-Id"));
}

const jsonHeaders = { "Content-Type": "application/json" };

describe("the error envelope", () => {
  it("an unknown route is 404 not_found in the envelope", async () => {
    expectEnvelope(await request("GET", "/api/auth/nope"), 404, "not_found");
    expectEnvelope(await request("POST", "/definitely/not/here", { body: {} }), 404, "not_found");
  });

  it("a known path with the wrong method is 405 method_not_allowed, in the envelope", async () => {
    expectEnvelope(await request("GET", "/api/auth/login"), 405, "method_not_allowed");
    expectEnvelope(await request("DELETE", "/api/auth/me"), 405, "method_not_allowed");
  });

  it("every response carries a unique X-Request-Id", async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const response = await request("GET", "/health");
      expect(response.status).toBe(200);
      ids.add(response.headers.get("X-Request-Id") ?? "");
    }
    expect(ids.size).toBe(5);
    expect([...ids].every((id) => /^[0-9a-f-]{36}$/.test(id))).toBe(true);
  });

  it("the health check and the OpenAPI document work (the baseline for 'no 500')", async () => {
    const health = await request("GET", "/health");
    expect(health.body).toMatchObject({ status: "ok", database: "ok" });
    const doc = await request("GET", "/openapi.json");
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(["/api/auth/register", "/api/auth/login", "/api/auth/verify"]));
  });
});

describe("request bodies", () => {
  it(`a body over ${MAX_BODY_BYTES} bytes is 413 payload_too_large, with Content-Length`, async () => {
    const body = JSON.stringify({ email: "a@example.test", password: "p".repeat(MAX_BODY_BYTES) });
    expect(body.length).toBeGreaterThan(MAX_BODY_BYTES);
    const response = await request("POST", "/api/auth/login", {
      rawBody: body,
      headers: { ...jsonHeaders, "Content-Length": String(body.length) },
    });
    expectEnvelope(response, 413, "payload_too_large");
  });

  it("a streamed body over the limit without Content-Length is 413 too", async () => {
    const chunk = new TextEncoder().encode(" ".repeat(8 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > MAX_BODY_BYTES + chunk.length) return controller.close();
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    const response = await request("POST", "/api/auth/register", { rawBody: stream, headers: jsonHeaders });
    expectEnvelope(response, 413, "payload_too_large");
  });

  it("the limit is exact: one byte over is 413, the limit itself is parsed (and refused as invalid, not as too large)", async () => {
    const filler = (total: number) => {
      const skeleton = JSON.stringify({ refreshToken: "" });
      return JSON.stringify({ refreshToken: "", pad: "x".repeat(total - skeleton.length - ',"pad":""'.length) });
    };
    const atLimit = filler(MAX_BODY_BYTES);
    const overLimit = filler(MAX_BODY_BYTES + 1);
    expect(atLimit.length).toBe(MAX_BODY_BYTES);
    expect(overLimit.length).toBe(MAX_BODY_BYTES + 1);
    expectEnvelope(await request("POST", "/api/auth/refresh", { rawBody: atLimit, headers: jsonHeaders }), 400, "invalid_request");
    expectEnvelope(await request("POST", "/api/auth/refresh", { rawBody: overLimit, headers: jsonHeaders }), 413, "payload_too_large");
  });

  it.each([
    ["truncated JSON", '{"email":"a@example.test","password":'],
    ["a trailing comma", '{"email":"a@example.test",}'],
    ["single quotes", "{'email':'a@example.test'}"],
    ["an empty body", ""],
    ["bare text", "email=a@example.test&password=x"],
    ["invalid UTF-8 outside a string", new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])],
  ])("invalid JSON (%s) is 400 invalid_json", async (_, rawBody) => {
    expectEnvelope(await request("POST", "/api/auth/login", { rawBody, headers: jsonHeaders }), 400, "invalid_json");
  });

  it.each([
    ["text/plain (what a cross-site form can send without preflight)", "text/plain"],
    ["application/x-www-form-urlencoded", "application/x-www-form-urlencoded"],
    ["multipart/form-data", "multipart/form-data; boundary=x"],
    ["application/xml", "application/xml"],
  ])("a JSON body sent as %s is 415 unsupported_media_type, not parsed", async (_, contentType) => {
    const account = await registerUser();
    const response = await request("POST", "/api/auth/login", {
      rawBody: JSON.stringify({ email: account.email, password: account.password }),
      headers: { "Content-Type": contentType },
    });
    expectEnvelope(response, 415, "unsupported_media_type");
    expect(response.headers.getSetCookie()).toHaveLength(0);
  });

  it("a body without any Content-Type is 415", async () => {
    const rawBody = new TextEncoder().encode(JSON.stringify({ refreshToken: "ab" }));
    expectEnvelope(await request("POST", "/api/auth/refresh", { rawBody }), 415, "unsupported_media_type");
  });

  it("application/json with a charset parameter is accepted", async () => {
    const account = await registerUser();
    const response = await request("POST", "/api/auth/login", {
      rawBody: JSON.stringify({ email: account.email, password: account.password }),
      headers: { "Content-Type": "application/json; charset=utf-8" },
    });
    expect(response.status).toBe(200);
  });
});

describe("bad input never yields a 500", () => {
  const weird: unknown[] = [
    null,
    [],
    "string",
    12,
    true,
    {},
    { email: null, password: null },
    { email: { $gt: "" }, password: { $ne: null } },
    { email: ["a@example.test"], password: ["x"] },
    { __proto__: { email: "a@example.test" } },
    JSON.parse('{"__proto__":{"password":"polluted"},"email":"a@example.test"}'),
    { email: "a@example.test", password: "x".repeat(1024), displayName: { toString: "x" } },
    { email: "\u0000@example.test", password: "\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000" },
    { email: "ünïcödé@exämple.test", password: "pässwörd-ünïcödé" },
    { refreshToken: { length: 68 } },
    { refreshToken: "f".repeat(68) },
  ];

  it.each(["/api/auth/register", "/api/auth/login", "/api/auth/refresh"])("POST %s answers 4xx for every odd body", async (path) => {
    for (const body of weird) {
      const response = await request("POST", path, { body });
      const what = `${path} ${JSON.stringify(body)} -> ${response.text}`;
      expect(response.status, what).toBeGreaterThanOrEqual(400);
      expect(response.status, what).toBeLessThan(500);
      expect(response.body.error.requestId, what).toBe(response.headers.get("X-Request-Id"));
    }
  });

  it("invalid UTF-8 inside a JSON string is decoded with replacement characters and then validated (400, not 500)", async () => {
    const rawBody = new Uint8Array([
      ...new TextEncoder().encode('{"email":"'),
      0xff,
      0xfe,
      ...new TextEncoder().encode('","password":"x"}'),
    ]);
    expectEnvelope(await request("POST", "/api/auth/login", { rawBody, headers: jsonHeaders }), 400, "invalid_request");
  });

  it("odd credentials on the authenticated routes are 401, never 500", async () => {
    const headerSets: Record<string, string>[] = [
      { Authorization: "Bearer" },
      { Authorization: "Bearer ....." },
      { Authorization: `Bearer ${"a".repeat(8000)}.${"b".repeat(8000)}.${"c".repeat(100)}` },
      { Authorization: "Bearer e30.e30.e30" },
      { Authorization: "Bearer eyJhbGciOiJIUzI1NiJ9.e30.AAAA" },
      { Authorization: "Bearer =.=.=" },
      { Authorization: "Digest username=x" },
      { Cookie: "__Host-heady_session=" },
      { Cookie: "__Host-heady_session=%" },
      { Cookie: "__Host-heady_session=a; __Host-heady_session=b" },
    ];
    for (const path of ["/api/auth/me", "/api/auth/verify"]) {
      for (const headers of headerSets) {
        const response = await request("GET", path, { headers });
        expect(response.status, `${path} ${JSON.stringify(headers)} -> ${response.text}`).toBe(401);
        expect(["unauthorized", "invalid_token"]).toContain(response.body.error.code);
      }
    }
  });

  it("an internal failure is not echoed: the 401 messages name no internals", async () => {
    const response = await request("GET", "/api/auth/verify", { headers: { Authorization: "Bearer eyJhbGciOiJub25lIn0.e30." } });
    expect(response.status).toBe(401);
    expect(response.text).not.toMatch(/ERR_|jose|stack|TokenError|forbidden_header|wrong_alg/i);
  });
});
