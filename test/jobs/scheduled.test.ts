import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { LEDGER_NAME } from "../../src/audit/ledger";
import { createAuditor } from "../../src/audit/record";
import { findEvent } from "../../src/audit/store";
import { verifyLedger } from "../../src/audit/verify-ledger";
import { database } from "../../src/db/client";
import { PRUNE_BATCH, PRUNE_BATCHES_PER_TABLE, PRUNE_GRACE_MS } from "../../src/db/prune";
import worker from "../../src/index";
import { NODE_TOKEN_MAX_TTL_SECONDS } from "../../src/mesh/config";
import { MAINTENANCE_CRON } from "../../src/scheduled";
import { registerUser } from "../support/accounts";

/** Runs the Worker's scheduled handler as the Cron Trigger would. */
async function runCron(): Promise<void> {
  await worker.scheduled(createScheduledController({ cron: MAINTENANCE_CRON, scheduledTime: Date.now() }), env);
}

async function exists(table: string, column: string, value: string): Promise<boolean> {
  return (await env.DB.prepare(`SELECT 1 AS found FROM ${table} WHERE ${column} = ?`).bind(value).first()) !== null;
}

const longAgo = () => Date.now() - PRUNE_GRACE_MS - 60_000;
const later = () => Date.now() + 3_600_000;

describe("the Cron Trigger", () => {
  it("is declared in wrangler.toml and wired to the scheduled handler", () => {
    expect(MAINTENANCE_CRON).toBe("*/5 * * * *");
    expect(typeof worker.scheduled).toBe("function");
  });

  it("drains the audit outbox into the chain on its own, with no later append to set an alarm", async () => {
    const unreachable = {
      ...env,
      LEDGER: {
        idFromName: () => env.LEDGER.idFromName(LEDGER_NAME),
        get: () => ({ append: () => Promise.reject(new Error("ledger unreachable")) }),
      },
    } as unknown as typeof env;
    const pending: Promise<unknown>[] = [];
    const auditor = createAuditor(unreachable, { requestId: "req-cron-outbox" }, (work) => pending.push(work));
    await auditor.record({ type: "user.disabled", subject: "cron-outbox-user" });
    await Promise.all(pending);
    const parked = await env.DB.prepare("SELECT id FROM audit_outbox").all<{ id: string }>();
    expect(parked.results).toHaveLength(1);

    await runCron();
    expect((await env.DB.prepare("SELECT COUNT(*) AS n FROM audit_outbox").first<{ n: number }>())!.n).toBe(0);
    // verifyLedger flushes the ledger's export to D1 first.
    expect((await verifyLedger(env, database(env.DB))).valid).toBe(true);
    expect(await findEvent(database(env.DB), parked.results[0]!.id)).toMatchObject({
      subject: "cron-outbox-user",
      requestId: "req-cron-outbox",
    });
  });

  it("deletes expired sessions, refresh tokens, node tokens, node revocations and socket rows, and keeps live ones", async () => {
    const live = await registerUser();
    const deadSession = crypto.randomUUID();
    await env.DB.prepare(
      "INSERT INTO sessions (id, user_id, cookie_hash, cookie_expires_at, expires_at, ip, user_agent, created_at) VALUES (?, ?, ?, ?, ?, NULL, NULL, ?)",
    )
      .bind(deadSession, live.userId, crypto.randomUUID(), longAgo(), longAgo(), longAgo())
      .run();
    const deadRefresh = crypto.randomUUID();
    await env.DB.prepare(
      "INSERT INTO refresh_tokens (id, token_hash, family_id, user_id, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?)",
    )
      .bind(deadRefresh, crypto.randomUUID(), deadSession, live.userId, longAgo(), longAgo())
      .run();
    const token = (jti: string, expiresAt: number) =>
      env.DB.prepare(
        "INSERT INTO mesh_node_tokens (jti, node_id, role, issued_by, issued_at, expires_at) VALUES (?, 'prune-node', 'ui', 'test', 0, ?)",
      )
        .bind(jti, expiresAt)
        .run();
    const [deadJti, liveJti, justExpiredJti] = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
    await token(deadJti, longAgo());
    await token(liveJti, later());
    // Expired, but within the grace a verifier's clock skew might still need.
    await token(justExpiredJti, Date.now() - 1000);
    const revocation = (nodeId: string, revokedBefore: number) =>
      env.DB.prepare("INSERT INTO mesh_node_revocations (node_id, revoked_before, revoked_by, revoked_at) VALUES (?, ?, 'test', 0)")
        .bind(nodeId, revokedBefore)
        .run();
    const nowSeconds = Math.floor(Date.now() / 1000);
    await revocation("prune-old-revocation", nowSeconds - NODE_TOKEN_MAX_TTL_SECONDS - PRUNE_GRACE_MS / 1000 - 60);
    // Its node may still hold a token issued a day before the revocation, alive for days more.
    await revocation("prune-live-revocation", nowSeconds - 24 * 3600);
    const socket = (socketId: string, expiresAt: number) =>
      env.DB.prepare("INSERT INTO mesh_sockets (socket_id, node_id, topic, connected_at, expires_at) VALUES (?, 'prune-node', 't', 0, ?)")
        .bind(socketId, expiresAt)
        .run();
    const [deadSocket, liveSocket] = [crypto.randomUUID(), crypto.randomUUID()];
    await socket(deadSocket, longAgo());
    await socket(liveSocket, later());

    await runCron();

    expect(await exists("sessions", "id", deadSession)).toBe(false);
    expect(await exists("refresh_tokens", "id", deadRefresh)).toBe(false);
    expect(await exists("mesh_node_tokens", "jti", deadJti)).toBe(false);
    expect(await exists("mesh_node_revocations", "node_id", "prune-old-revocation")).toBe(false);
    expect(await exists("mesh_sockets", "socket_id", deadSocket)).toBe(false);

    expect(await exists("users", "id", live.userId)).toBe(true);
    expect((await env.DB.prepare("SELECT COUNT(*) AS n FROM sessions WHERE user_id = ?").bind(live.userId).first<{ n: number }>())!.n).toBe(
      1,
    );
    expect(
      (await env.DB.prepare("SELECT COUNT(*) AS n FROM refresh_tokens WHERE user_id = ?").bind(live.userId).first<{ n: number }>())!.n,
    ).toBe(1);
    expect(await exists("mesh_node_tokens", "jti", liveJti)).toBe(true);
    expect(await exists("mesh_node_tokens", "jti", justExpiredJti)).toBe(true);
    expect(await exists("mesh_node_revocations", "node_id", "prune-live-revocation")).toBe(true);
    expect(await exists("mesh_sockets", "socket_id", liveSocket)).toBe(true);
  });

  it("deletes expired mailed tokens, MFA challenges and WebAuthn challenges, and keeps live ones", async () => {
    const user = await registerUser();
    const emailToken = (hash: string, expiresAt: number) =>
      env.DB.prepare(
        "INSERT INTO email_tokens (token_hash, purpose, user_id, email, created_at, expires_at) VALUES (?, 'reset_password', ?, ?, 0, ?)",
      )
        .bind(hash, user.userId, user.email, expiresAt)
        .run();
    const challenge = (hash: string, expiresAt: number) =>
      env.DB.prepare("INSERT INTO mfa_challenges (challenge_hash, user_id, created_at, expires_at) VALUES (?, ?, 0, ?)")
        .bind(hash, user.userId, expiresAt)
        .run();
    const ceremony = (id: string, expiresAt: number) =>
      env.DB.prepare(
        "INSERT INTO webauthn_challenges (id, challenge, purpose, user_id, created_at, expires_at) VALUES (?, 'c', 'sign_in', NULL, 0, ?)",
      )
        .bind(id, expiresAt)
        .run();
    const [dead, live] = [crypto.randomUUID(), crypto.randomUUID()];
    for (const insert of [emailToken, challenge, ceremony]) {
      await insert(`${dead}-${insert.name}`, longAgo());
      await insert(`${live}-${insert.name}`, later());
    }
    await runCron();
    for (const [table, column, insert] of [
      ["email_tokens", "token_hash", emailToken],
      ["mfa_challenges", "challenge_hash", challenge],
      ["webauthn_challenges", "id", ceremony],
    ] as const) {
      expect(await exists(table, column, `${dead}-${insert.name}`), table).toBe(false);
      expect(await exists(table, column, `${live}-${insert.name}`), table).toBe(true);
    }
  });

  it(`deletes in batches of ${PRUNE_BATCH}, at most ${PRUNE_BATCHES_PER_TABLE} per table a run, and finishes on the next run`, async () => {
    const total = PRUNE_BATCH * PRUNE_BATCHES_PER_TABLE + 500;
    await env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
       INSERT INTO mesh_sockets (socket_id, node_id, topic, connected_at, expires_at) SELECT 'bulk-' || i, 'bulk-node', 't', 0, ? FROM n`,
    )
      .bind(total, longAgo())
      .run();
    const left = async () =>
      (await env.DB.prepare("SELECT COUNT(*) AS n FROM mesh_sockets WHERE node_id = 'bulk-node'").first<{ n: number }>())!.n;
    expect(await left()).toBe(total);
    await runCron();
    expect(await left()).toBe(500);
    await runCron();
    expect(await left()).toBe(0);
  });
});
