import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { verifyAccessToken } from "../../src/credentials/access-token";
import { TokenError } from "../../src/crypto/jwt";
import { type Bindings, loadConfig } from "../../src/env";
import { WIDGET_GUEST_PER_IP } from "../../src/rate-limit/limits";
import { issueWidgetToken, verifyWidgetToken } from "../../src/widget/token";
import { apiKeyFor, registerUser, type SignedIn, userWithRole } from "../support/accounts";
import { auditEvents } from "../support/audit";
import { ALLOWED_ORIGIN, BASE_URL, OTHER_ALLOWED_ORIGIN, testConfig } from "../support/config";
import { randomIp } from "../support/fresh";
import type { RequestOptions } from "../support/http";
import { requestPqcToken } from "../support/pqc";
import { accessTokenKey, decodeHeader, decodePayload, flipSignatureByte, forgeJwt, unsigned } from "../support/tokens";
import { request } from "../support/worker";

const FOREIGN_ORIGIN = "https://evil.example";

/** `origin: null` sends no Origin at all. */
function startWidget(options: RequestOptions = {}, origin: string | null = ALLOWED_ORIGIN) {
  const headers: Record<string, string> = { ...options.headers };
  if (origin !== null) headers.Origin = origin;
  return request("POST", "/api/session/start", { ...options, headers });
}

async function widgetFor(user: SignedIn | undefined, origin = ALLOWED_ORIGIN): Promise<{ token: string; sub: string; role: string }> {
  const started = await startWidget(user ? { token: user.accessToken } : {}, origin);
  expect(started.status, started.text).toBe(201);
  return started.body;
}

/** A request as the widget makes it: its token, from `origin` (no Origin header when null). */
function asWidget(method: string, path: string, token: string, origin: string | null = ALLOWED_ORIGIN, body?: unknown) {
  return request(method, path, { token, body, headers: origin === null ? {} : { Origin: origin } });
}

function refused(response: { status: number; body: any }, status: number, code: string) {
  expect(response.status).toBe(status);
  expect(response.body.error.code).toBe(code);
}

describe("POST /api/session/start", () => {
  it("gives a signed-in person a widget token of its own kind, bound to the origin and the session", async () => {
    const user = await registerUser();
    const started = await startWidget({ token: user.accessToken });
    expect(started.status).toBe(201);
    expect(started.headers.get("Cache-Control")).toBe("no-store");
    expect(started.body).toMatchObject({ tokenType: "Bearer", expiresIn: 900, origin: ALLOWED_ORIGIN, role: "user", sub: user.userId });

    const header = decodeHeader(started.body.token);
    expect(header).toEqual({ alg: "HS256", typ: "widget+jwt", kid: expect.stringMatching(/^wt-[0-9a-f]{16}$/) });
    const claims = decodePayload(started.body.token);
    expect(claims).toMatchObject({
      iss: testConfig().issuer,
      aud: "heady-widget",
      sub: user.userId,
      role: "user",
      origin: ALLOWED_ORIGIN,
      sid: decodePayload(user.accessToken).sid,
    });
    expect(claims.jti).toEqual(expect.any(String));
    expect((claims.exp as number) - (claims.iat as number)).toBe(900);

    const me = await asWidget("GET", "/api/auth/me", started.body.token);
    expect(me.status).toBe(200);
    expect(me.body.id).toBe(user.userId);
    const verified = await asWidget("GET", "/api/auth/verify", started.body.token);
    expect(verified.status).toBe(200);
    expect(verified.body).toMatchObject({
      valid: true,
      kind: "widget_token",
      sub: user.userId,
      role: "user",
      origin: ALLOWED_ORIGIN,
      sid: claims.sid,
      jti: claims.jti,
    });

    const [event] = await auditEvents({ subject: user.userId, type: "widget.session_started" });
    expect(event!.details).toMatchObject({ origin: ALLOWED_ORIGIN, role: "user", guest: false, jti: claims.jti });
  });

  it("refuses the session cookie from a sibling origin: a cookie-made change must come from our own pages", async () => {
    // The allowlisted origin is same-site, so the SameSite cookie rides along on its own; a widget
    // there starts with the person's access token instead (see credentials.ts, the cookie reader).
    const user = await registerUser();
    refused(await startWidget({ cookie: user.cookie }, OTHER_ALLOWED_ORIGIN), 403, "origin_not_allowed");
  });

  it("caps the role at user: an admin's widget is a user, and passes no admin route", async () => {
    const admin = await userWithRole("admin");
    const widget = await widgetFor(admin);
    expect(widget.role).toBe("user");
    expect((await asWidget("GET", "/api/auth/verify", widget.token)).body.role).toBe("user");
    refused(await asWidget("GET", "/api/admin/users", widget.token), 403, "forbidden");
  });

  it("without a credential starts a guest session, which verifies but has no profile", async () => {
    const guest = await widgetFor(undefined);
    expect(guest.role).toBe("guest");
    expect(guest.sub).toMatch(/^guest:[A-Za-z0-9_-]{22}$/);
    expect(decodePayload(guest.token).sid).toBeUndefined();
    const verified = await asWidget("GET", "/api/auth/verify", guest.token);
    expect(verified.status).toBe(200);
    expect(verified.body).toMatchObject({ kind: "widget_token", sub: guest.sub, role: "guest", sid: null });
    refused(await asWidget("GET", "/api/auth/me", guest.token), 403, "forbidden");
    const [event] = await auditEvents({ subject: guest.sub, type: "widget.session_started" });
    expect(event!.details).toMatchObject({ guest: true, role: "guest" });
  });

  it("refuses a foreign origin, a missing Origin and the Worker's own origin", async () => {
    const user = await registerUser();
    for (const origin of [FOREIGN_ORIGIN, null, BASE_URL, "null"]) {
      refused(await startWidget({ token: user.accessToken }, origin), 403, "origin_not_allowed");
      refused(await startWidget({}, origin), 403, "origin_not_allowed");
    }
  });

  it("refuses an API key, a PQC token and a widget token as the caller, and a bad access token", async () => {
    const user = await registerUser();
    const key = await apiKeyFor(user, ["pqc"]);
    const pqc = (await requestPqcToken({ service: "headyme", operation: "sync" }, { token: user.accessToken })).body.pqcToken as string;
    refused(await startWidget({ headers: { "X-API-Key": key } }), 403, "forbidden");
    refused(await startWidget({ headers: { "X-Heady-PQC-Token": pqc } }), 403, "forbidden");
    const widget = await widgetFor(user);
    // A widget never begets another, not even a guest one.
    refused(await startWidget({ token: widget.token }), 403, "forbidden");
    refused(await startWidget({ token: flipSignatureByte(user.accessToken) }), 401, "invalid_token");
  });

  it("rate-limits guest sessions per client address, not signed-in ones", async () => {
    const ip = randomIp();
    for (let i = 0; i < WIDGET_GUEST_PER_IP.limit; i++) expect((await startWidget({ ip })).status).toBe(201);
    const limited = await startWidget({ ip });
    refused(limited, 429, "rate_limited");
    expect(Number(limited.headers.get("Retry-After"))).toBeGreaterThan(0);
    const user = await registerUser();
    expect((await startWidget({ ip, token: user.accessToken })).status).toBe(201);
  });
});

describe("a widget token", () => {
  it("works only from its origin: replayed from another origin, or without one, it is refused", async () => {
    const user = await registerUser();
    const widget = await widgetFor(user, ALLOWED_ORIGIN);
    for (const path of ["/api/auth/me", "/api/auth/verify"]) {
      refused(await asWidget("GET", path, widget.token, OTHER_ALLOWED_ORIGIN), 403, "origin_not_allowed");
      refused(await asWidget("GET", path, widget.token, null), 403, "origin_not_allowed");
      refused(await asWidget("GET", path, widget.token, FOREIGN_ORIGIN), 403, "origin_not_allowed");
      expect((await asWidget("GET", path, widget.token, ALLOWED_ORIGIN)).status).toBe(200);
    }
  });

  it("is refused on every route that does not list it: API keys, admin, PQC issuance, logout, onboarding", async () => {
    const user = await registerUser();
    const { token } = await widgetFor(user);
    const attempts: [string, string, unknown?][] = [
      ["POST", "/api/auth/api-keys", { description: "from a widget" }],
      ["GET", "/api/auth/api-keys"],
      ["GET", "/api/admin/users"],
      ["POST", "/api/auth/request-pqc-token", { service: "headyme", operation: "sync" }],
      ["POST", "/api/auth/logout"],
      ["GET", "/onboarding/status"],
      ["GET", "/api/auth/sessions"],
      ["GET", "/api/audit/events"],
    ];
    for (const [method, path, body] of attempts) {
      const response = await asWidget(method, path, token, ALLOWED_ORIGIN, body);
      expect(response.status, `${method} ${path}`).toBe(403);
      expect(response.body.error.message).toMatch(/widget token/);
    }
    const listed = await request("GET", "/api/auth/api-keys", { token: user.accessToken });
    expect(listed.body.keys).toEqual([]);
    // The session it came from still stands: the refused logout ended nothing.
    expect((await asWidget("GET", "/api/auth/me", token)).status).toBe(200);
  });

  it("dies with its parent session: after logout it is refused", async () => {
    const user = await registerUser();
    const { token } = await widgetFor(user);
    expect((await asWidget("GET", "/api/auth/me", token)).status).toBe(200);
    expect((await request("POST", "/api/auth/logout", { token: user.accessToken })).status).toBe(204);
    refused(await asWidget("GET", "/api/auth/me", token), 401, "invalid_token");
    refused(await asWidget("GET", "/api/auth/verify", token), 401, "invalid_token");
  });

  it("never passes as an access token, and an access token never as a widget token", async () => {
    const user = await registerUser();
    const { token } = await widgetFor(user);
    const config = testConfig();
    await expect(verifyAccessToken(config, token)).rejects.toBeInstanceOf(TokenError);
    await expect(verifyWidgetToken(config, user.accessToken)).rejects.toBeInstanceOf(TokenError);

    // An access token relabelled as a widget token (typ and claims of a widget, signed with the access-token key) is refused.
    const { kid, sign } = await accessTokenKey();
    const claims = decodePayload(token);
    for (const header of [
      { alg: "HS256", typ: "widget+jwt", kid },
      { alg: "HS256", typ: "widget+jwt", kid: decodeHeader(token).kid },
      { alg: "none", typ: "widget+jwt", kid: decodeHeader(token).kid },
    ]) {
      const forged = await forgeJwt(header, claims, header.alg === "none" ? unsigned : sign);
      await expect(verifyWidgetToken(config, forged)).rejects.toBeInstanceOf(TokenError);
      refused(await asWidget("GET", "/api/auth/verify", forged), 401, "invalid_token");
    }
    // A widget's claims relabelled as an access token are refused too (wrong key, wrong audience).
    const asAccess = await forgeJwt(
      { alg: "HS256", typ: "at+jwt", kid },
      { ...claims, aud: config.accessTokenAudience },
      async () => new Uint8Array(32),
    );
    refused(await request("GET", "/api/auth/verify", { token: asAccess }), 401, "invalid_token");
    refused(await asWidget("GET", "/api/auth/verify", flipSignatureByte(token)), 401, "invalid_token");
  });

  it("the claim rules hold even under the real key: a guest has no session and no role above guest, a person's widget names its session, an hour at most", async () => {
    const config = testConfig();
    const origin = ALLOWED_ORIGIN;
    // issueWidgetToken signs what it is given; the verifier is what refuses these.
    for (const subject of [
      { sub: "guest:abc", role: "user" as const, origin },
      { sub: "guest:abc", role: "guest" as const, origin, sessionId: "some-session" },
      { sub: "some-user", role: "user" as const, origin },
    ]) {
      const { token } = await issueWidgetToken(config, subject);
      await expect(verifyWidgetToken(config, token)).rejects.toThrow(/bad_claims/);
    }
    const long = await issueWidgetToken({ ...config, widgetSessionTtlSeconds: 7200 }, { sub: "guest:abc", role: "guest", origin });
    await expect(verifyWidgetToken(config, long.token)).rejects.toThrow(/lifetime_too_long/);
    const fine = await issueWidgetToken(config, { sub: "guest:abc", role: "guest", origin });
    await expect(verifyWidgetToken(config, fine.token)).resolves.toMatchObject({ sub: "guest:abc", role: "guest", sessionId: undefined });
  });
});

describe("WIDGET_SESSION_TTL_SECONDS", () => {
  it("sets the lifetime, from 60 s up to an hour", async () => {
    const withTtl = (ttl: string) => loadConfig({ ...env, WIDGET_SESSION_TTL_SECONDS: ttl } as Bindings);
    expect(withTtl("120").widgetSessionTtlSeconds).toBe(120);
    expect(() => withTtl("3601")).toThrow(/3600/);
    expect(() => withTtl("59")).toThrow(/60/);
    expect(testConfig().widgetSessionTtlSeconds).toBe(900);
  });
});
