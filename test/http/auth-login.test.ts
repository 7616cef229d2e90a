import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CURRENT_PASSWORD_PARAMS, hashPassword, verifyPassword } from "../../src/crypto/password";
import { consumeRateLimit, LOGIN_PER_ACCOUNT, LOGIN_PER_ACCOUNT_AND_ADDRESS, LOGIN_PER_IP } from "../../src/rate-limit/limits";
import { attemptLogin, findUser, HASHING_HEAVY, login, refresh, registerUser, updateUser } from "../support/accounts";
import { auditEvents, emailSubject } from "../support/audit";
import { testConfig } from "../support/config";
import { sessionCookies } from "../support/cookies";
import { randomIp, strongPassword, uniqueEmail } from "../support/fresh";
import type { ApiResponse } from "../support/http";
import { decodePayload } from "../support/tokens";
import { request } from "../support/worker";

/** Everything a client can observe of a refusal, minus the per-request id. */
function observable(response: ApiResponse) {
  const { requestId, ...error } = response.body.error;
  return {
    status: response.status,
    error,
    requestIdIsUuid: /^[0-9a-f-]{36}$/.test(requestId),
    wwwAuthenticate: response.headers.get("WWW-Authenticate"),
    contentType: response.headers.get("Content-Type"),
    setsCookie: response.headers.getSetCookie().length > 0,
  };
}

async function insertUserWithHash(email: string, passwordHash: string): Promise<string> {
  const id = crypto.randomUUID();
  const now = Date.now();
  await env.DB.prepare("INSERT INTO users (id, email, password_hash, role, created_at, updated_at) VALUES (?, ?, ?, 'user', ?, ?)")
    .bind(id, email, passwordHash, now, now)
    .run();
  return id;
}

describe("POST /api/auth/login: happy path", () => {
  it("answers 200 with the profile, a fresh token pair and the session cookie", async () => {
    const account = await registerUser({ displayName: "Lin" });
    const response = await attemptLogin(account.email, account.password);
    expect(response.status).toBe(200);
    expect(response.body.user).toEqual({
      id: account.userId,
      email: account.email,
      role: "user",
      displayName: "Lin",
      emailVerified: false,
      createdAt: expect.any(String),
    });
    expect(response.body.expiresIn).toBe(testConfig().accessTokenTtlSeconds);
    expect(response.body.refreshToken).toMatch(/^[0-9a-f]{68}$/);
    expect(response.body.refreshToken).not.toBe(account.refreshToken);
    expect(decodePayload(response.body.accessToken)).toMatchObject({ sub: account.userId, role: "user", email: account.email });
    expect(sessionCookies(response.headers)).toHaveLength(1);
    expect((await request("GET", "/api/auth/me", { token: response.body.accessToken })).status).toBe(200);
  });

  it("starts a new session on every login: new sid, new refresh token, new cookie value", async () => {
    const account = await registerUser();
    const first = await login(account.email, account.password);
    const second = await login(account.email, account.password);
    expect(decodePayload(first.accessToken).sid).not.toBe(decodePayload(second.accessToken).sid);
    expect(first.refreshToken).not.toBe(second.refreshToken);
    expect(new Set([account.cookie, first.cookie, second.cookie]).size).toBe(3);
    // Sessions are independent: the earlier ones still stand.
    expect((await request("GET", "/api/auth/me", { cookie: first.cookie })).status).toBe(200);
  });

  it("never adopts a cookie value the client already carries (session fixation)", async () => {
    const account = await registerUser();
    const planted = "attacker-chosen-session-value-0123456789abcdef";
    const session = await login(account.email, account.password, { cookie: planted });
    expect(session.cookie).not.toBe(planted);
    expect((await request("GET", "/api/auth/me", { cookie: planted })).status).toBe(401);
    expect((await request("GET", "/api/auth/me", { cookie: session.cookie })).status).toBe(200);
  });

  it("matches the email case-insensitively", async () => {
    const account = await registerUser();
    expect((await login(account.email.toUpperCase(), account.password)).userId).toBe(account.userId);
  });

  it("records login.succeeded with the client address", async () => {
    const account = await registerUser();
    const ip = randomIp();
    const session = await login(account.email, account.password, { ip });
    const events = await auditEvents({ subject: account.userId, type: "login.succeeded" });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ ip, request_id: session.response.headers.get("X-Request-Id"), details: { rehashed: false } });
  });
});

describe("POST /api/auth/login: refusals look the same", HASHING_HEAVY, () => {
  it("an unknown email and a wrong password get the identical status, headers and body (but the requestId)", async () => {
    const account = await registerUser();
    const wrongPassword = await attemptLogin(account.email, `${account.password}x`);
    const unknownEmail = await attemptLogin(uniqueEmail("ghost"), account.password);
    expect(wrongPassword.status).toBe(401);
    expect(wrongPassword.body.error.code).toBe("invalid_credentials");
    expect(observable(unknownEmail)).toEqual(observable(wrongPassword));
    expect(unknownEmail.body.error.requestId).not.toBe(wrongPassword.body.error.requestId);
    expect(Object.keys(unknownEmail.body)).toEqual(Object.keys(wrongPassword.body));
  });

  it("a disabled account is refused even with the right password, exactly like a wrong one", async () => {
    const account = await registerUser();
    await updateUser(account.userId, { disabled_at: Date.now() });
    const disabled = await attemptLogin(account.email, account.password);
    const wrong = await attemptLogin(account.email, "definitely-not-it-42");
    expect(disabled.status).toBe(401);
    expect(observable(disabled)).toEqual(observable(wrong));
    // Whatever it held before is dead too.
    expect((await request("GET", "/api/auth/me", { token: account.accessToken })).status).toBe(401);
    expect((await request("GET", "/api/auth/me", { cookie: account.cookie })).status).toBe(401);
    expect((await refresh(account.refreshToken)).status).toBe(401);
    const failures = await auditEvents({ subject: account.userId, type: "login.failed" }, { atLeast: 2 });
    expect(failures.map((event) => event.details)).toEqual([{ reason: "disabled" }, { reason: "disabled" }]);
  });

  it("audits failures; an unknown address is recorded only as a hash", async () => {
    const account = await registerUser();
    await attemptLogin(account.email, "definitely-not-it-42");
    const [wrong] = await auditEvents({ subject: account.userId, type: "login.failed" });
    expect(wrong?.details).toEqual({ reason: "wrong_password" });

    const ghost = uniqueEmail("ghost");
    await attemptLogin(ghost, "definitely-not-it-42");
    const unknown = await auditEvents({ subject: await emailSubject(ghost), type: "login.failed" });
    expect(unknown).toHaveLength(1);
    expect(unknown[0]?.details).toEqual({ reason: "unknown_email" });
    const all = await env.DB.prepare("SELECT count(*) AS n FROM audit_events WHERE subject LIKE ? OR details LIKE ?")
      .bind(`%${ghost}%`, `%${ghost}%`)
      .first<{ n: number }>();
    expect(all?.n).toBe(0);
  });

  it.each([
    ["no password", { email: "x@example.test" }],
    ["an invalid email", { email: "nope", password: "whatever-123" }],
    ["an empty password", { email: "x@example.test", password: "" }],
  ])("answers 400 invalid_request for %s", async (_, body) => {
    const response = await request("POST", "/api/auth/login", { body });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe("invalid_request");
  });

  it("does not apply the registration policy at login: a short password is just wrong (401)", async () => {
    const account = await registerUser();
    const response = await attemptLogin(account.email, "abc");
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe("invalid_credentials");
  });
});

describe("POST /api/auth/login: passwords are compared whole", HASHING_HEAVY, () => {
  it("a 100-character password works, and one differing only at character 80 or 100 does not", async () => {
    const password = Array.from({ length: 100 }, (_, i) => "k7Qz!mPw"[i % 8]).join("");
    const account = await registerUser({ password });
    expect((await login(account.email, password)).userId).toBe(account.userId);
    const at = (index: number) => `${password.slice(0, index)}${password[index] === "x" ? "y" : "x"}${password.slice(index + 1)}`;
    expect(at(79)).toHaveLength(100);
    expect((await attemptLogin(account.email, at(79))).status).toBe(401);
    expect((await attemptLogin(account.email, at(99))).status).toBe(401);
    expect((await attemptLogin(account.email, password.slice(0, 72))).status).toBe(401);
  });

  it("NFKC-equivalent spellings of a password are the same password", async () => {
    const account = await registerUser({ password: "\uFB01ne-harbour-\u2460\u2461\u2462" });
    expect((await login(account.email, "fine-harbour-123")).userId).toBe(account.userId);
  });

  // UTF-8 encoding replaces every unpaired surrogate with U+FFFD, so distinct passwords differing
  // only in unpaired surrogates would hash alike. Ill-formed passwords are refused (400) instead.
  it("passwords that differ only in unpaired surrogates are not interchangeable", async () => {
    const email = uniqueEmail("surrogate");
    const original = "\uD800\uD801\uD802\uD803-quiet-harbour";
    const registered = await request("POST", "/api/auth/register", { body: { email, password: original } });
    expect(registered.status).toBe(400);
    expect(registered.body.error.code).toBe("invalid_request");
    const illFormed = await attemptLogin(email, "\uDC00\uDC01\uDC02\uDC03-quiet-harbour");
    expect(illFormed.status).toBe(400);
    const replaced = await attemptLogin(email, "\uFFFD\uFFFD\uFFFD\uFFFD-quiet-harbour");
    expect(replaced.status).toBe(401);
  });
});

describe("POST /api/auth/login: lockout per account and client address", HASHING_HEAVY, () => {
  it(`locks the account for one client after ${LOGIN_PER_ACCOUNT_AND_ADDRESS.limit} failures: 429 with Retry-After, even for the right password`, async () => {
    const account = await registerUser();
    const ip = randomIp();
    for (let i = 0; i < LOGIN_PER_ACCOUNT_AND_ADDRESS.limit; i++) {
      expect((await attemptLogin(account.email, `wrong-${i}-password`, { ip })).status).toBe(401);
    }
    const locked = await attemptLogin(account.email, account.password, { ip });
    expect(locked.status).toBe(429);
    expect(locked.body.error.code).toBe("rate_limited");
    const retryAfter = Number(locked.headers.get("Retry-After"));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThan(LOGIN_PER_ACCOUNT_AND_ADDRESS.windowSeconds - 120);
    expect(retryAfter).toBeLessThanOrEqual(LOGIN_PER_ACCOUNT_AND_ADDRESS.windowSeconds);
    expect(sessionCookies(locked.headers)).toHaveLength(0);
    expect((await attemptLogin(account.email.toUpperCase(), account.password, { ip })).status).toBe(429);
    expect(await auditEvents({ subject: await emailSubject(account.email), type: "login.rate_limited" }, { atLeast: 2 })).toHaveLength(2);
  });

  it("an attacker's failures from other addresses do not lock the owner out from their own", async () => {
    const victim = await registerUser();
    const attacker = randomIp();
    for (let i = 0; i < LOGIN_PER_ACCOUNT_AND_ADDRESS.limit; i++) await attemptLogin(victim.email, `wrong-${i}-password`, { ip: attacker });
    expect((await attemptLogin(victim.email, "wrong-again-password", { ip: attacker })).status).toBe(429);
    // Spread over more addresses too, each below its own lock.
    for (let i = 0; i < 8; i++) expect((await attemptLogin(victim.email, `spread-${i}-password`)).status).toBe(401);
    expect((await attemptLogin(victim.email, victim.password, { ip: randomIp() })).status).toBe(200);
  });

  it("one /64 is one client: rotating interface ids does not reset the lock", async () => {
    const account = await registerUser();
    const [a, b] = crypto.getRandomValues(new Uint16Array(2));
    const inPrefix = (i: number) => `2001:db8:${a!.toString(16)}:${b!.toString(16)}::${(i + 1).toString(16)}`;
    for (let i = 0; i < LOGIN_PER_ACCOUNT_AND_ADDRESS.limit; i++)
      await attemptLogin(account.email, `wrong-${i}-password`, { ip: inPrefix(i) });
    expect((await attemptLogin(account.email, account.password, { ip: inPrefix(99) })).status).toBe(429);
  });

  it("locks an unknown address just the same, so a lock reveals nothing", async () => {
    const ghost = uniqueEmail("ghost");
    const ip = randomIp();
    for (let i = 0; i < LOGIN_PER_ACCOUNT_AND_ADDRESS.limit; i++)
      expect((await attemptLogin(ghost, `wrong-${i}-password`, { ip })).status).toBe(401);
    expect((await attemptLogin(ghost, "wrong-again-password", { ip })).status).toBe(429);
  });

  it("a lock on one account does not touch another account from the same address", async () => {
    const ip = randomIp();
    const victim = await registerUser();
    const bystander = await registerUser();
    for (let i = 0; i < LOGIN_PER_ACCOUNT_AND_ADDRESS.limit; i++) await attemptLogin(victim.email, `wrong-${i}-password`, { ip });
    expect((await attemptLogin(victim.email, victim.password, { ip })).status).toBe(429);
    expect((await attemptLogin(bystander.email, bystander.password, { ip })).status).toBe(200);
  });

  it("a successful login clears the failure count for that client", async () => {
    const account = await registerUser();
    const ip = randomIp();
    for (let i = 0; i < LOGIN_PER_ACCOUNT_AND_ADDRESS.limit - 1; i++) await attemptLogin(account.email, `wrong-${i}-password`, { ip });
    await login(account.email, account.password, { ip });
    for (let i = 0; i < LOGIN_PER_ACCOUNT_AND_ADDRESS.limit - 1; i++) {
      expect((await attemptLogin(account.email, `wrong-${i}-again`, { ip })).status).toBe(401);
    }
    expect((await attemptLogin(account.email, account.password, { ip })).status).toBe(200);
  });

  it(`limits one address to ${LOGIN_PER_IP.limit} attempts across accounts (credential stuffing)`, async () => {
    const ip = randomIp();
    const account = await registerUser();
    const attempts = Array.from({ length: LOGIN_PER_IP.limit }, () => attemptLogin(uniqueEmail("stuffed"), "password-guess-1", { ip }));
    const statuses = (await Promise.all(attempts)).map((response) => response.status);
    expect(statuses.every((status) => status === 401)).toBe(true);
    const limited = await attemptLogin(account.email, account.password, { ip });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect((await attemptLogin(account.email, account.password, { ip: randomIp() })).status).toBe(200);
  });
});

/**
 * Brings the account's global counter to its limit, as that many attempts from elsewhere would:
 * the real limiter object, under the rule the route uses. Each real attempt costs a full PBKDF2
 * run, so spending the whole allowance with real logins would take minutes.
 */
async function spendAccountAttempts(email: string, attempts = LOGIN_PER_ACCOUNT.limit): Promise<void> {
  for (let i = 0; i < attempts; i++) await consumeRateLimit(env, LOGIN_PER_ACCOUNT, email);
}

describe(`POST /api/auth/login: at most ${LOGIN_PER_ACCOUNT.limit} attempts per account per hour from everywhere`, HASHING_HEAVY, () => {
  it("attempts from every address count; past the limit a client that never signed in here is refused, even with the right password", async () => {
    const account = await registerUser();
    for (let i = 0; i < 3; i++) expect((await attemptLogin(account.email, `wrong-${i}-password`)).status).toBe(401);
    await spendAccountAttempts(account.email, LOGIN_PER_ACCOUNT.limit - 4);
    // The last attempt of the allowance is still answered; the next one is not.
    expect((await attemptLogin(account.email, "wrong-last-password")).status).toBe(401);
    const refused = await attemptLogin(account.email, account.password, { ip: randomIp() });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("Retry-After"))).toBeGreaterThan(LOGIN_PER_ACCOUNT.windowSeconds - 120);
    expect((await auditEvents({ subject: await emailSubject(account.email), type: "login.rate_limited" }))[0]?.details).toMatchObject({
      limit: "account",
    });
  });

  it("a client address the owner signed in from before still gets in (and still has its own lock)", async () => {
    const home = randomIp();
    const account = await registerUser({ ip: home });
    await spendAccountAttempts(account.email);
    expect((await attemptLogin(account.email, account.password, { ip: randomIp() })).status).toBe(429);
    expect((await attemptLogin(account.email, account.password, { ip: home })).status).toBe(200);
    for (let i = 0; i < LOGIN_PER_ACCOUNT_AND_ADDRESS.limit; i++) await attemptLogin(account.email, `wrong-${i}-password`, { ip: home });
    expect((await attemptLogin(account.email, account.password, { ip: home })).status).toBe(429);
  });

  it("the known address is matched by /64 and in any spelling", async () => {
    const [a, b] = crypto.getRandomValues(new Uint16Array(2));
    const prefix = `2001:db8:${a!.toString(16)}:${b!.toString(16)}`;
    const account = await registerUser({ ip: `${prefix}::1` });
    await spendAccountAttempts(account.email);
    expect((await attemptLogin(account.email, account.password, { ip: `${prefix.toUpperCase()}:0:0:0:2` })).status).toBe(200);
  });

  it("an unknown email past the limit is refused like a known one", async () => {
    const ghost = uniqueEmail("ghost");
    await spendAccountAttempts(ghost);
    expect((await attemptLogin(ghost, "any-password-at-all")).status).toBe(429);
  });
});

/** A random /64 under the documentation prefix, as a function of the interface id. */
function randomSlash64(): (interfaceId: number) => string {
  const [a, b] = crypto.getRandomValues(new Uint16Array(2));
  return (interfaceId) =>
    `2001:db8:${a!.toString(16)}:${b!.toString(16)}:${(interfaceId >> 16).toString(16)}:${(interfaceId & 0xffff).toString(16)}:0:1`;
}

describe("POST /api/auth/login: per-IP limits count IPv6 clients by /64", HASHING_HEAVY, () => {
  it(`${LOGIN_PER_IP.limit + 4} attempts from as many addresses of one /64 hit the per-IP limit; another /64 does not`, async () => {
    const inPrefix = randomSlash64();
    const account = await registerUser();
    const attempts = Array.from({ length: LOGIN_PER_IP.limit }, (_, i) =>
      attemptLogin(uniqueEmail("v6"), "password-guess-1", { ip: inPrefix(i + 1) }),
    );
    expect((await Promise.all(attempts)).map((response) => response.status)).toEqual(Array(LOGIN_PER_IP.limit).fill(401));
    for (let i = 0; i < 4; i++) {
      const limited = await attemptLogin(account.email, account.password, { ip: inPrefix(1000 + i) });
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get("Retry-After"))).toBeGreaterThan(0);
    }
    expect((await attemptLogin(account.email, account.password, { ip: randomSlash64()(1) })).status).toBe(200);
  });

  it("two spellings of one address are one client", async () => {
    const address = randomSlash64()(7);
    const [, , a, b] = address.split(":");
    const spellings = [
      address,
      address.toUpperCase(),
      `2001:0db8:${a!.padStart(4, "0")}:${b!.padStart(4, "0")}:0000:0007:0000:0001`,
      `[${address}]`,
    ];
    const attempts = Array.from({ length: LOGIN_PER_IP.limit }, (_, i) =>
      attemptLogin(uniqueEmail("spelt"), "password-guess-1", { ip: spellings[i % spellings.length] }),
    );
    expect((await Promise.all(attempts)).every((response) => response.status === 401)).toBe(true);
    expect((await attemptLogin(uniqueEmail("spelt"), "password-guess-1", { ip: spellings[1] })).status).toBe(429);
  });
});

describe("POST /api/auth/login: PHC rehash", () => {
  it("raises a hash stored with old parameters to the current ones on the next successful login", async () => {
    const email = uniqueEmail("legacy");
    const password = strongPassword();
    const legacyHash = await hashPassword(password, { iterations: 1000, rounds: 1 });
    const userId = await insertUserWithHash(email, legacyHash);

    expect((await attemptLogin(email, "not-the-password-1")).status).toBe(401);
    expect((await findUser(email))?.password_hash).toBe(legacyHash);

    const session = await login(email, password);
    expect(session.userId).toBe(userId);
    const upgraded = (await findUser(email))!.password_hash;
    expect(upgraded).not.toBe(legacyHash);
    expect(upgraded.startsWith(`$pbkdf2-sha256$i=${CURRENT_PASSWORD_PARAMS.iterations},r=${CURRENT_PASSWORD_PARAMS.rounds}$`)).toBe(true);
    expect(await verifyPassword(password, upgraded)).toEqual({ valid: true, needsRehash: false });
    const [event] = await auditEvents({ subject: userId, type: "login.succeeded" });
    expect(event?.details).toEqual({ rehashed: true });

    // The upgraded hash keeps working and is not rewritten again.
    await login(email, password);
    expect((await findUser(email))?.password_hash).toBe(upgraded);
  });
});

// These share one piece of global state, "is there an admin yet?", so they run in order in
// this file's own storage; each leaves the state the next one starts from.
describe("bootstrap admin", HASHING_HEAVY, () => {
  const bootstrap = () => {
    const pair = testConfig().bootstrapAdmin;
    if (!pair) throw new Error("the test config must set BOOTSTRAP_ADMIN_EMAIL and BOOTSTRAP_ADMIN_PASSWORD");
    return pair;
  };
  const adminCount = async () => (await env.DB.prepare("SELECT count(*) AS n FROM users WHERE role = 'admin'").first<{ n: number }>())?.n;
  const forgetBootstrapAccount = () => env.DB.prepare("DELETE FROM users WHERE email = ?").bind(bootstrap().email).run();

  it("with no admin yet, a login with the bootstrap pair creates the admin account", async () => {
    const { email, password } = bootstrap();
    expect(await findUser(email)).toBeNull();
    expect(await adminCount()).toBe(0);
    const session = await login(email, password);
    expect(session.response.body.user).toMatchObject({ email, role: "admin" });
    expect(decodePayload(session.accessToken).role).toBe("admin");
    expect(await adminCount()).toBe(1);
    const [event] = await auditEvents({ subject: session.userId, type: "user.bootstrapped_admin" });
    expect(event?.details).toEqual({ promoted: false });
    await forgetBootstrapAccount();
    expect(await adminCount()).toBe(0);
  });

  it("an account registered first at the bootstrap address stays a user with its own password", async () => {
    const { email } = bootstrap();
    const attacker = await registerUser({ email, password: "attacker-chose-this-1" });
    expect(attacker.response.body.user.role).toBe("user");
    const again = await login(email, "attacker-chose-this-1");
    expect(again.response.body.user.role).toBe("user");
    expect((await attemptLogin(email, "some-other-guess-22")).status).toBe(401);
    expect((await findUser(email))?.role).toBe("user");
    expect(await adminCount()).toBe(0);
  });

  it("the bootstrap password promotes that account, resets its password and ends its sessions", async () => {
    const { email, password } = bootstrap();
    const attacker = await login(email, "attacker-chose-this-1");
    const admin = await login(email, password);
    expect(admin.userId).toBe(attacker.userId);
    expect(admin.response.body.user.role).toBe("admin");
    expect(await adminCount()).toBe(1);

    expect((await attemptLogin(email, "attacker-chose-this-1")).status).toBe(401);
    expect((await request("GET", "/api/auth/me", { token: attacker.accessToken })).status).toBe(401);
    expect((await request("GET", "/api/auth/me", { cookie: attacker.cookie })).status).toBe(401);
    expect((await refresh(attacker.refreshToken)).status).toBe(401);
    expect((await request("GET", "/api/auth/me", { token: admin.accessToken })).body.role).toBe("admin");

    const events = await auditEvents({ subject: admin.userId, type: "user.bootstrapped_admin" });
    expect(events.map((event) => event.details)).toEqual([{ promoted: true }]);
  });

  it("once an admin exists, the bootstrap pair is an ordinary login: nothing is created or promoted", async () => {
    const { email, password } = bootstrap();
    const before = await findUser(email);
    const usersBefore = (await env.DB.prepare("SELECT count(*) AS n FROM users").first<{ n: number }>())?.n;
    const session = await login(email, password);
    expect(session.userId).toBe(before?.id);
    expect((await findUser(email))?.password_hash).toBe(before?.password_hash);
    expect(await adminCount()).toBe(1);
    expect((await env.DB.prepare("SELECT count(*) AS n FROM users").first<{ n: number }>())?.n).toBe(usersBefore);
    expect(await auditEvents({ type: "user.bootstrapped_admin" }, { atLeast: 2 })).toHaveLength(2);
  });

  it("when another admin exists, the bootstrap pair creates no account", async () => {
    const { email, password } = bootstrap();
    const other = await registerUser();
    await updateUser(other.userId, { role: "admin" });
    await forgetBootstrapAccount();
    const response = await attemptLogin(email, password);
    expect(response.status).toBe(401);
    expect(await findUser(email)).toBeNull();
    expect(await adminCount()).toBe(1);
  });
});
