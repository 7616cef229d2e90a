import { describe, expect, it } from "vitest";
import { request } from "../support/worker";

const ROUTES: [string, string][] = [
  ["post", "/api/auth/verify-email"],
  ["post", "/api/auth/verify-email/resend"],
  ["post", "/api/auth/password/forgot"],
  ["post", "/api/auth/password/reset"],
  ["post", "/api/auth/password/change"],
  ["get", "/api/auth/sessions"],
  ["delete", "/api/auth/sessions/{id}"],
  ["post", "/api/auth/sessions/revoke-others"],
  ["get", "/api/auth/mfa"],
  ["post", "/api/auth/mfa/totp/enroll"],
  ["post", "/api/auth/mfa/totp/confirm"],
  ["post", "/api/auth/mfa/totp/disable"],
  ["post", "/api/auth/login/mfa"],
  ["get", "/api/dev/outbox"],
  ["get", "/api/auth/passkeys"],
  ["post", "/api/auth/passkeys/register/options"],
  ["post", "/api/auth/passkeys/register/verify"],
  ["delete", "/api/auth/passkeys/{id}"],
  ["post", "/api/auth/passkeys/login/options"],
  ["post", "/api/auth/passkeys/login/verify"],
  ["post", "/api/auth/login/mfa/passkey/options"],
  ["post", "/api/auth/login/mfa/passkey"],
];

describe("account security in /openapi.json", () => {
  it("describes every route, with a summary and its error responses", async () => {
    const { paths } = (await request("GET", "/openapi.json")).body as {
      paths: Record<string, Record<string, { summary?: string; responses: Record<string, unknown> }>>;
    };
    for (const [method, path] of ROUTES) {
      const operation = paths[path]?.[method];
      expect(operation, `${method.toUpperCase()} ${path}`).toBeDefined();
      expect(operation!.summary).toBeTruthy();
      expect(Object.keys(operation!.responses).some((status) => status.startsWith("4"))).toBe(true);
    }
  });

  it("the login answer documents the MFA challenge", async () => {
    const document = (await request("GET", "/openapi.json")).body;
    expect(JSON.stringify(document.paths["/api/auth/login"].post.responses["200"])).toContain("MfaChallenge");
  });
});

describe("the hosted pages mailed links open", () => {
  it.each(["/account/verify-email", "/account/reset-password"])("%s is HTML under a strict CSP, with no Referer", async (path) => {
    const response = await request("GET", path);
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toContain("text/html");
    expect(response.headers.get("Content-Security-Policy")).toContain("default-src 'none'");
    expect(response.headers.get("Content-Security-Policy")).toContain("connect-src 'self'");
    expect(response.headers.get("Referrer-Policy")).toBe("no-referrer");
    // A token is taken from the fragment and dropped from the address bar.
    expect(response.text).toContain('history.replaceState(null, "", location.pathname)');
  });
});
