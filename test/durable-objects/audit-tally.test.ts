import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { createAuditor } from "../../src/audit/record";
import { DISTINCT_EVENTS_PER_WINDOW, tallyObject } from "../../src/audit/tally";
import { formatApiKey, generateApiKey } from "../../src/crypto/api-key";
import { refresh } from "../support/accounts";
import { auditEvents } from "../support/audit";
import { randomIp } from "../support/fresh";
import { connect, join, nodeAuditEvents, nodeToken, uniqueNodeId, uniqueTopic, withMeshVars } from "../support/mesh";
import { request } from "../support/worker";

/** A well-formed key (valid checksum) that no one issued, with the given 8-character display prefix. */
function forgedKey(prefix: string): string {
  return formatApiKey(`${prefix}${generateApiKey().key.slice(12, 4 + 43)}`);
}

const randomPrefix = () => generateApiKey().key.slice(4, 12);

/** How many events the source's open window has taken in, individually or counted. */
async function tallied(source: string): Promise<number> {
  return runInDurableObject(tallyObject(env, source), (_, state) => {
    const open = state.storage.kv.get<{ kinds: Record<string, { repeats: number }>; overflow: Record<string, { count: number }> }>("open");
    if (!open) return 0;
    const kinds = Object.values(open.kinds);
    return (
      kinds.length + kinds.reduce((sum, kind) => sum + kind.repeats, 0) + Object.values(open.overflow).reduce((sum, o) => sum + o.count, 0)
    );
  });
}

/** Waits until `count` events reached the source's tally (they are sent in the background), then ends its window. */
async function endWindow(source: string, count: number): Promise<void> {
  await vi.waitFor(async () => expect(await tallied(source)).toBe(count), { timeout: 5000, interval: 50 });
  expect(await runDurableObjectAlarm(tallyObject(env, source))).toBe(true);
}

describe("failed API keys: a forged key costs the ledger one event per kind and source a minute", () => {
  it("writes the first failure of a prefix from an IP at once, and 29 more as one event with count 29", async () => {
    const ip = randomIp();
    const prefix = randomPrefix();
    for (let n = 0; n < 30; n++) {
      const response = await request("GET", "/api/auth/verify", { ip, headers: { "X-API-Key": forgedKey(prefix) } });
      expect(response.status).toBe(401);
    }
    const subject = `key:hdy_${prefix}`;
    const first = await auditEvents({ type: "api_key.failed", subject });
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ ip, details: { reason: "unknown" } });

    await endWindow(`ip:${ip}`, 30);
    const events = await auditEvents({ type: "api_key.failed", subject }, { atLeast: 2 });
    expect(events).toHaveLength(2);
    expect(events[1]).toMatchObject({ ip, details: { reason: "unknown", count: 29, aggregated: "repeats" } });
  });

  it(`writes at most ${DISTINCT_EVENTS_PER_WINDOW} different prefixes from one IP individually, and counts the rest in one event`, async () => {
    const ip = randomIp();
    const total = DISTINCT_EVENTS_PER_WINDOW + 15;
    for (let n = 0; n < total; n++) {
      expect((await request("GET", "/api/auth/verify", { ip, headers: { "X-API-Key": forgedKey(randomPrefix()) } })).status).toBe(401);
    }
    await endWindow(`ip:${ip}`, total);
    const events = await auditEvents({ type: "api_key.failed", ip }, { atLeast: DISTINCT_EVENTS_PER_WINDOW + 1 });
    expect(events).toHaveLength(DISTINCT_EVENTS_PER_WINDOW + 1);
    expect(events.at(-1)).toMatchObject({ subject: null, details: { count: 15, aggregated: "overflow" } });
  });

  it("keeps IPs apart: another address's first failure is written at once", async () => {
    const prefix = randomPrefix();
    for (const ip of [randomIp(), randomIp()]) {
      expect((await request("GET", "/api/auth/verify", { ip, headers: { "X-API-Key": forgedKey(prefix) } })).status).toBe(401);
    }
    expect(await auditEvents({ type: "api_key.failed", subject: `key:hdy_${prefix}` }, { atLeast: 2 })).toHaveLength(2);
  });

  it("still records an event when the tally object is unreachable: it goes to the ledger itself", async () => {
    const broken = {
      ...env,
      AUDIT_TALLY: {
        idFromName: () => env.AUDIT_TALLY.idFromName("x"),
        get: () => ({ tally: () => Promise.reject(new Error("tally unreachable")) }),
      },
    } as unknown as typeof env;
    const pending: Promise<unknown>[] = [];
    const subject = `tally-down-${crypto.randomUUID()}`;
    await createAuditor(broken, { requestId: "req-tally-down", ip: randomIp() }, (work) => pending.push(work)).recordCoalesced({
      type: "api_key.failed",
      subject,
    });
    await Promise.all(pending);
    expect(await auditEvents({ subject })).toHaveLength(1);
  });
});

describe("other writers anyone can drive are coalesced the same way", () => {
  it("failed refreshes: one event at once, the rest counted", async () => {
    const ip = randomIp();
    for (let n = 0; n < 12; n++) expect((await refresh("0".repeat(68), { ip })).status).toBe(401);
    expect(await auditEvents({ type: "refresh.failed", ip })).toHaveLength(1);
    await endWindow(`ip:${ip}`, 12);
    const events = await auditEvents({ type: "refresh.failed", ip }, { atLeast: 2 });
    expect(events.map((event) => event.details.count)).toEqual([undefined, 11]);
  });

  it("refused gateway calls without a credential: one event at once, the rest counted", async () => {
    const ip = randomIp();
    for (let n = 0; n < 12; n++) expect((await request("GET", "/gw/admin/users", { ip })).status).toBe(401);
    expect(await auditEvents({ type: "gateway.denied", ip })).toHaveLength(1);
    await endWindow(`ip:${ip}`, 12);
    const events = await auditEvents({ type: "gateway.denied", ip }, { atLeast: 2 });
    expect(events[1]!.details).toMatchObject({ route: "/admin", code: "unauthorized", count: 11 });
  });

  it("refused mesh connects: a token for the wrong topic, tried 15 times, is one event and then a count", async () => {
    const nodeId = uniqueNodeId();
    const { token } = await nodeToken(nodeId, "ui");
    const ip = randomIp();
    for (let n = 0; n < 15; n++) {
      expect(await (await connect("governor.decision", { token, ip })).closed()).toEqual({ code: 1008, reason: "topic not allowed" });
    }
    expect(await nodeAuditEvents("mesh.access_denied", nodeId)).toHaveLength(1);
    await endWindow(`ip:${ip}`, 15);
    const events = await nodeAuditEvents("mesh.access_denied", nodeId, 2);
    expect(events[1]!.details).toMatchObject({ event: "unauthorized_access", topic: "governor.decision", count: 14 });
  });

  it("forbidden emits (MESH_FORBIDDEN_EMIT=error): one event at once, then one with the count, per node", async () => {
    const nodeId = uniqueNodeId("noisy");
    const topic = uniqueTopic("mirror.feed");
    const client = await join(topic, (await nodeToken(nodeId, "ui")).token);
    await withMeshVars(topic, { MESH_FORBIDDEN_EMIT: "error" });
    for (let n = 0; n < 20; n++) client.send({ type: "pulse", data: n });
    for (let n = 0; n < 20; n++) expect((await client.nextOfType("error")).code).toBe("forbidden_topic");
    expect(await nodeAuditEvents("mesh.access_denied", nodeId)).toHaveLength(1);
    await endWindow(`node:${nodeId}`, 20);
    const events = await nodeAuditEvents("mesh.access_denied", nodeId, 2);
    expect(events[1]!.details).toMatchObject({ event: "unauthorized_access", action: "emit", count: 19 });
    client.close();
  });
});
