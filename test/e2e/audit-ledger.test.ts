import { execFileSync } from "node:child_process";
import { createPublicKey, verify } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { request } from "../support/e2e/client";
import { uniqueEmail } from "../support/fresh";

const PASSWORD = "cobalt meadow rhythm anchor";
const USERS = 5;

async function adminToken(): Promise<string> {
  const { email, password } = inject("bootstrapAdmin");
  const login = await request("POST", "/api/auth/login", { body: { email, password } });
  expect(login.status).toBe(200);
  return login.body.accessToken;
}

/** Every event with this subject, following the pages. */
async function eventsFor(token: string, subject: string): Promise<Array<{ id: string; seq: number; type: string }>> {
  const events = [];
  let cursor: string | null = null;
  do {
    const query: URLSearchParams = new URLSearchParams({ subject, limit: "200", ...(cursor ? { cursor } : {}) });
    const page = await request("GET", `/api/audit/events?${query}`, { token });
    expect(page.status).toBe(200);
    events.push(...page.body.events);
    cursor = page.body.nextCursor;
  } while (cursor);
  return events;
}

function countByType(events: Array<{ type: string }>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const event of events) counts[event.type] = (counts[event.type] ?? 0) + 1;
  return counts;
}

describe("audit ledger against wrangler dev", () => {
  it("a burst of logins, failures and key operations leaves exactly the expected events, chained", async () => {
    const runs = await Promise.all(
      Array.from({ length: USERS }, async (_, index) => {
        const email = uniqueEmail(`ledger${index}`);
        const registered = await request("POST", "/api/auth/register", { body: { email, password: PASSWORD } });
        expect(registered.status).toBe(201);
        const [ok1, ok2, bad] = await Promise.all([
          request("POST", "/api/auth/login", { body: { email, password: PASSWORD } }),
          request("POST", "/api/auth/login", { body: { email, password: PASSWORD } }),
          request("POST", "/api/auth/login", { body: { email, password: "wrong password entirely" } }),
        ]);
        expect([ok1.status, ok2.status, bad.status]).toEqual([200, 200, 401]);
        const key = await request("POST", "/api/auth/api-keys", { token: ok1.body.accessToken, body: { description: "ledger" } });
        expect(key.status).toBe(201);
        expect((await request("DELETE", `/api/auth/api-keys/${key.body.id}`, { token: ok1.body.accessToken })).status).toBe(204);
        return { userId: registered.body.user.id as string, keyId: key.body.id as string };
      }),
    );

    const token = await adminToken();
    const seen = new Set<string>();
    for (const { userId, keyId } of runs) {
      // Background deliveries may land a moment after the responses: wait until they all have.
      await expect
        .poll(async () => countByType(await eventsFor(token, userId)), { timeout: 10_000, interval: 200 })
        // Registration also mails the verification link (issue 16).
        .toEqual({ "user.registered": 1, "email.verification_sent": 1, "login.succeeded": 2, "login.failed": 1 });
      const keyEvents = await eventsFor(token, keyId);
      expect(countByType(keyEvents)).toEqual({ "api_key.created": 1, "api_key.revoked": 1 });
      for (const event of [...(await eventsFor(token, userId)), ...keyEvents]) {
        expect(seen.has(event.id)).toBe(false);
        seen.add(event.id);
      }
    }
    expect(seen.size).toBe(USERS * 7);

    const verification = await request("GET", "/api/audit/verify", { token });
    expect(verification.status).toBe(200);
    expect(verification.body).toMatchObject({ valid: true, firstBreak: null });
    expect(verification.body.eventsChecked).toBe(verification.body.head.seq);
  });

  it("receipts verify with Node's Ed25519 from the JWKS alone; a tampered one does not", async () => {
    const registered = await request("POST", "/api/auth/register", { body: { email: uniqueEmail("receipt"), password: PASSWORD } });
    const receipt = registered.headers.get("x-heady-receipt");
    expect(receipt).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    const [header, payload, signature] = receipt!.split(".") as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
    expect(claims).toMatchObject({ evt: "user.registered", sub: registered.body.user.id });
    expect(claims.chain_hash).toMatch(/^[0-9a-f]{64}$/);

    const jwks = (await request("GET", "/.well-known/jwks.json")).body;
    const { kid } = JSON.parse(Buffer.from(header, "base64url").toString());
    const jwk = jwks.keys.find((key: { kid: string }) => key.kid === kid);
    expect(jwk).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA" });
    const publicKey = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: jwk.x }, format: "jwk" });
    expect(verify(null, Buffer.from(`${header}.${payload}`), publicKey, Buffer.from(signature, "base64url"))).toBe(true);

    const forgedPayload = Buffer.from(JSON.stringify({ ...claims, sub: "someone-else" })).toString("base64url");
    expect(verify(null, Buffer.from(`${header}.${forgedPayload}`), publicKey, Buffer.from(signature, "base64url"))).toBe(false);

    // The same receipt is served again, to its subject.
    const again = await request("GET", `/api/audit/receipts/${claims.jti}`, { token: registered.body.accessToken });
    expect(again.status).toBe(200);
    expect(again.body.receipt).toBe(receipt);

    // The offline verifier accepts the receipt and refuses the forgery, from a JWKS file alone.
    const dir = mkdtempSync(join(tmpdir(), "jwks-"));
    const jwksFile = join(dir, "jwks.json");
    writeFileSync(jwksFile, JSON.stringify(jwks));
    const script = join(process.cwd(), "scripts/ops/verify-receipt.ts");
    expect(JSON.parse(execFileSync(process.execPath, [script, receipt!, jwksFile], { encoding: "utf8" })).valid).toBe(true);
    expect(() =>
      execFileSync(process.execPath, [script, `${header}.${forgedPayload}.${signature}`, jwksFile], { stdio: "pipe" }),
    ).toThrow();
  });
});
