import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { ALLOWED_ORIGIN } from "../support/config";
import type { ApiResponse } from "../support/http";
import { request } from "../support/worker";

/**
 * A path that exists, asked with a method it does not take, is 405 `method_not_allowed` with an
 * `Allow` header (RFC 9110 §15.5.6), for every route the app registers: OpenAPI routes and plain
 * ones alike. An unknown path stays 404; HEAD works wherever GET does; OPTIONS is answered.
 */

function expectMethodNotAllowed(response: ApiResponse, allow: string) {
  expect(response.status, response.text).toBe(405);
  expect(response.body.error.code).toBe("method_not_allowed");
  expect(response.body.error.requestId).toBe(response.headers.get("X-Request-Id"));
  expect(response.headers.get("Allow")).toBe(allow);
}

describe("405 with Allow", () => {
  it.each([
    ["PATCH", "/api/auth/login", "POST, OPTIONS"],
    ["GET", "/api/auth/login", "POST, OPTIONS"],
    ["DELETE", "/api/auth/me", "GET, HEAD, OPTIONS"],
    ["PUT", "/api/auth/api-keys", "GET, HEAD, POST, OPTIONS"],
    ["GET", "/api/auth/api-keys/0b7f2c4e-0000-4000-8000-000000000000", "DELETE, OPTIONS"],
    ["POST", "/api/admin/users/someone/role", "PUT, OPTIONS"],
    ["POST", "/health", "GET, HEAD, OPTIONS"], // a plain (non-OpenAPI) route
    ["DELETE", "/openapi.json", "GET, HEAD, OPTIONS"],
    ["POST", "/ws/mesh/some.topic", "GET, HEAD, OPTIONS"],
    ["HEAD", "/api/auth/login", "POST, OPTIONS"], // HEAD is GET's, and login has none
  ])("%s %s: 405, Allow: %s", async (method, path, allow) => {
    const response = await request(method, path);
    if (method === "HEAD") {
      expect(response.status).toBe(405);
      expect(response.headers.get("Allow")).toBe(allow);
    } else {
      expectMethodNotAllowed(response, allow);
    }
  });

  it("holds for every route the app registers", async () => {
    const methodsByPath = new Map<string, Set<string>>();
    for (const route of createApp().routes) {
      if (route.method === "ALL") continue; // middleware, and the gateway (which answers 405 per route itself)
      methodsByPath.set(route.path, (methodsByPath.get(route.path) ?? new Set()).add(route.method));
    }
    expect(methodsByPath.size).toBeGreaterThan(15);
    for (const [path, methods] of methodsByPath) {
      const wrong = ["GET", "POST", "PUT", "PATCH", "DELETE"].find((method) => !methods.has(method))!;
      const response = await request(wrong, path.replaceAll(/:[a-z]+/gi, "x"));
      expect(`${wrong} ${path}: ${response.status}`).toBe(`${wrong} ${path}: 405`);
      const allow = response.headers.get("Allow")!.split(", ");
      expect(allow).toEqual(expect.arrayContaining([...methods, "OPTIONS"]));
      expect(allow.includes("HEAD")).toBe(methods.has("GET"));
      expect(allow).not.toContain(wrong);
    }
  });

  it("an unknown path is still 404, whatever the method", async () => {
    for (const method of ["GET", "POST", "PATCH", "OPTIONS"]) {
      const response = await request(method, "/api/auth/nope");
      expect(response.status).toBe(404);
      expect(response.headers.has("Allow")).toBe(false);
    }
    expect((await request("GET", "/api/auth/login/")).status).toBe(404); // strict: a trailing slash is another path
  });

  it("HEAD on a GET route is answered as GET, without a body", async () => {
    const response = await request("HEAD", "/health");
    expect(response.status).toBe(200);
    expect(response.text).toBe("");
  });

  it("a CORS preflight is still answered by CORS; a plain OPTIONS gets 204 with Allow", async () => {
    const preflight = await request("OPTIONS", "/api/auth/login", {
      headers: { Origin: ALLOWED_ORIGIN, "Access-Control-Request-Method": "POST" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("Access-Control-Allow-Origin")).toBe(ALLOWED_ORIGIN);
    expect(preflight.headers.get("Access-Control-Allow-Methods")).toContain("POST");

    const plain = await request("OPTIONS", "/api/auth/login");
    expect(plain.status).toBe(204);
    expect(plain.headers.get("Allow")).toBe("POST, OPTIONS");
    expect(plain.text).toBe("");
  });

  it("a cross-origin caller reading a 405 gets the CORS headers with it", async () => {
    const response = await request("PATCH", "/api/auth/login", { headers: { Origin: ALLOWED_ORIGIN } });
    expectMethodNotAllowed(response, "POST, OPTIONS");
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe(ALLOWED_ORIGIN);
  });
});
