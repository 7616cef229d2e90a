import { createExecutionContext, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createApp } from "../../src/app";
import type { Bindings } from "../../src/env";
import { METRICS_AGGREGATOR_NAME } from "../../src/metrics/aggregator";
import {
  countMetric,
  drainMetrics,
  FLUSH_ABANDONED_AFTER_MS,
  flushMetrics,
  forgetMetricsFlushForTests,
  hasUnflushedMetrics,
} from "../../src/metrics/batch";
import { resetPqcKeyringForTests } from "../../src/pqc/keyring";
import { apiKeyFor, attemptLogin, registerUser, type SignedIn, userWithRole } from "../support/accounts";
import { kmsBindings, kmsMode, kmsTenant } from "../support/kms";
import { connect, join, nodeToken, uniqueNodeId } from "../support/mesh";
import { requestPqcToken } from "../support/pqc";
import { delta, parseSamples } from "../support/prometheus";
import { decodeHeader, verifyCall } from "../support/tokens";
import { appWith, request } from "../support/worker";

/**
 * `/metrics` and `/metrics/pqc`: who may read them, and that the counts are exact: each request
 * counts in its isolate and flushes in the background to the one aggregating Durable Object.
 */

const METRICS_TOKEN = env.METRICS_TOKEN!;
let admin: SignedIn;
let user: SignedIn;

beforeAll(async () => {
  [admin, user] = await Promise.all([userWithRole("admin"), registerUser()]);
});

/** Every sample of a scrape, by series. */
async function scrape(path = "/metrics"): Promise<Map<string, number>> {
  const response = await request("GET", path, { token: METRICS_TOKEN });
  expect(response.status, response.text).toBe(200);
  return parseSamples(response.text);
}

describe("who may read /metrics", () => {
  it("the METRICS_TOKEN bearer: Prometheus text", async () => {
    for (const path of ["/metrics", "/metrics/pqc"]) {
      const response = await request("GET", path, { token: METRICS_TOKEN });
      expect(response.status, response.text).toBe(200);
      expect(response.headers.get("Content-Type")).toBe("text/plain; version=0.0.4; charset=utf-8");
      expect(response.text).toContain("# TYPE heady_pqc_tokens_generated_total counter");
    }
  });

  it("an admin's session", async () => {
    const response = await request("GET", "/metrics", { token: admin.accessToken });
    expect(response.status, response.text).toBe(200);
    expect(response.text).toContain("# TYPE heady_logins_total counter");
  });

  it("nobody else: no credential or a wrong secret is 401, a user or an admin's API key 403, in the JSON envelope", async () => {
    for (const options of [{}, { token: `${METRICS_TOKEN}x` }, { token: "not-the-metrics-token" }]) {
      const response = await request("GET", "/metrics", options);
      expect(response.status, response.text).toBe(401);
      expect(response.body.error.code).toMatch(/unauthorized|invalid_token/);
    }
    const asUser = await request("GET", "/metrics/pqc", { token: user.accessToken });
    expect(asUser.status).toBe(403);
    expect(asUser.body.error.code).toBe("forbidden");
    const asKey = await request("GET", "/metrics", { apiKey: await apiKeyFor(admin, ["pqc"], "admin") });
    expect(asKey.status).toBe(403);
  });
});

describe("exact counts", () => {
  it("after 3 issuances, 4 verifications and 2 refused tokens, the scrape shows exactly those", async () => {
    const before = await scrape();
    const tokens: string[] = [];
    for (let i = 0; i < 3; i++) {
      const issued = await requestPqcToken({ service: "headyme", operation: "sync" }, { token: user.accessToken });
      expect(issued.status, issued.text).toBe(200);
      tokens.push(issued.body.pqcToken);
    }
    for (const token of [...tokens, tokens[0]!]) expect((await verifyCall({ pqc: token })).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await verifyCall({ pqc: `${tokens[1]!.slice(0, -4)}AAAA` })).status).toBe(401);
    const after = await scrape();

    expect(delta(before, after, 'heady_pqc_tokens_generated_total{service="headyme",operation="sync"}')).toBe(3);
    expect(delta(before, after, "heady_pqc_token_size_bytes_count")).toBe(3);
    // An ML-DSA-65 token with this deployment's heady_ctx is just over 5000 bytes: the seed's top bucket.
    expect(delta(before, after, 'heady_pqc_token_size_bytes_bucket{le="+Inf"}')).toBe(3);
    expect(delta(before, after, 'heady_pqc_token_size_bytes_bucket{le="4000"}')).toBe(0);
    expect(delta(before, after, "heady_pqc_token_size_bytes_sum")).toBe(tokens.reduce((sum, token) => sum + token.length, 0));
    expect(delta(before, after, 'heady_pqc_verification_duration_seconds_count{service="headyme",result="valid"}')).toBe(4);
    expect(delta(before, after, 'heady_pqc_verification_duration_seconds_count{service="unknown",result="invalid"}')).toBe(2);
  });

  it("logins by result, refreshes and API-key verifications", async () => {
    const before = await scrape();
    const person = await registerUser(); // registration signs in, but it is no login: not counted
    expect((await attemptLogin(person.email, "wrong password entirely")).status).toBe(401);
    expect((await attemptLogin(person.email, person.password)).status).toBe(200);
    expect((await request("POST", "/api/auth/refresh", { body: { refreshToken: person.refreshToken } })).status).toBe(200);
    expect((await request("POST", "/api/auth/refresh", { body: { refreshToken: person.refreshToken } })).status).toBe(401); // reuse
    const key = await apiKeyFor(user, ["pqc"]); // the reuse above ended person's session
    expect((await verifyCall({ apiKey: key })).status).toBe(200);
    expect((await verifyCall({ apiKey: `${key.slice(0, -1)}${key.endsWith("A") ? "B" : "A"}` })).status).toBe(401);
    const after = await scrape();

    expect(delta(before, after, 'heady_logins_total{result="failed"}')).toBe(1);
    expect(delta(before, after, 'heady_logins_total{result="succeeded"}')).toBe(1);
    expect(delta(before, after, 'heady_token_refreshes_total{result="succeeded"}')).toBe(1);
    expect(delta(before, after, "heady_refresh_reuse_detected_total")).toBe(1);
    expect(delta(before, after, 'heady_api_key_verifications_total{result="valid"}')).toBe(1);
    expect(delta(before, after, 'heady_api_key_verifications_total{result="invalid"}')).toBe(1);
  });

  it("mesh connections, pulses and refusals, counted in the topic's Durable Object", async () => {
    const before = await scrape();
    const sender = await join("mirror.update", (await nodeToken(uniqueNodeId("metrics"), "ui")).token);
    const peer = await join("mirror.update", (await nodeToken(uniqueNodeId("metrics"), "ui")).token);
    sender.send({ type: "pulse", data: 1, id: "m1" });
    await sender.nextOfType("ack");
    sender.send({ type: "pulse", data: 2, id: "m2" });
    await sender.nextOfType("ack");
    const refused = await connect("governor.private.plans", { token: (await nodeToken(uniqueNodeId("metrics"), "ui")).token });
    expect((await refused.closed()).code).toBe(1008);
    for (const client of [sender, peer]) client.close();
    // The object's flush runs in its own waitUntil: wait for it rather than for a fixed time.
    await expect.poll(async () => delta(before, await scrape(), "heady_mesh_pulses_total"), { timeout: 5000 }).toBe(2);
    const after = await scrape();
    expect(delta(before, after, "heady_mesh_connections_total")).toBe(2);
    expect(delta(before, after, 'heady_mesh_refusals_total{event="unauthorized_access"}')).toBe(1);
  });

  it("KMS calls and their errors, per attempt", async () => {
    const tenant = await kmsTenant();
    const handler = appWith(kmsBindings(tenant));
    const before = await scrape();
    resetPqcKeyringForTests();
    await kmsMode(tenant, "throttle", { operations: ["Sign"], times: 1 });
    const issued = await requestPqcToken({ service: "headyme", operation: "sync" }, { token: user.accessToken, handler });
    expect(issued.status, issued.text).toBe(200);
    const after = await scrape();
    expect(delta(before, after, 'heady_kms_requests_total{operation="GetPublicKey"}')).toBe(1);
    expect(delta(before, after, 'heady_kms_requests_total{operation="Sign"}')).toBe(2);
    expect(delta(before, after, 'heady_kms_errors_total{operation="Sign",type="ThrottlingException"}')).toBe(1);
    expect(delta(before, after, 'heady_kms_request_duration_seconds_count{operation="Sign"}')).toBe(2);
    // This file's D1 also serves the local signer, and adopting the KMS key retired the local key, which
    // then signs nothing more: undo the adoption, so that the tests after this one issue as before.
    await env.DB.batch([
      env.DB.prepare("DELETE FROM pqc_keys WHERE kid = ?").bind(decodeHeader(issued.body.pqcToken).kid),
      env.DB.prepare("UPDATE pqc_keys SET retires_at = NULL"),
    ]);
  });

  it("/metrics/pqc carries the PQC families only", async () => {
    const pqc = await scrape("/metrics/pqc");
    expect([...pqc.keys()].some((series) => series.startsWith("heady_pqc_tokens_generated_total"))).toBe(true);
    expect([...pqc.keys()].some((series) => series.startsWith("heady_logins_total"))).toBe(false);
  });
});

describe("the flush", () => {
  it("does not hold the response: with the aggregator hanging, the request is answered and its counts wait", async () => {
    let calls = 0;
    const hanging = {
      idFromName: (name: string) => env.METRICS.idFromName(name),
      get: () => ({
        add: () => {
          calls += 1;
          return new Promise(() => {});
        },
      }),
    };
    const app = createApp();
    const bindings = { ...env, METRICS: hanging } as unknown as Bindings;
    const ctx = createExecutionContext();
    forgetMetricsFlushForTests(); // an earlier request's flush would take this one's counts
    const issued = await app.fetch(
      new Request("https://id.heady.test/api/auth/request-pqc-token", {
        method: "POST",
        headers: { Authorization: `Bearer ${user.accessToken}`, "Content-Type": "application/json", "CF-Connecting-IP": "198.51.100.7" },
        body: JSON.stringify({ service: "headyme", operation: "sync" }),
      }),
      bindings,
      ctx,
    );
    expect(issued.status).toBe(200);
    expect(calls).toBeGreaterThanOrEqual(1);
  });

  it("a batch the aggregator did not take is kept and sent with the next flush; a batch id is applied once", async () => {
    const stub = env.METRICS.get(env.METRICS.idFromName(METRICS_AGGREGATOR_NAME));
    await drainMetrics(env); // whatever earlier requests left
    const read = async () => new Map((await stub.snapshot()) as [string, number][]).get("heady_mesh_pulses_total") ?? 0;
    const start = await read();

    const down = { idFromName: () => ({}), get: () => ({ add: () => Promise.reject(new Error("Durable Object is overloaded.")) }) };
    countMetric("heady_mesh_pulses_total", {}, 5);
    await drainMetrics({ ...env, METRICS: down } as unknown as Bindings);
    expect(hasUnflushedMetrics()).toBe(true);
    expect(await read()).toBe(start);

    await drainMetrics(env);
    expect(hasUnflushedMetrics()).toBe(false);
    expect(await read()).toBe(start + 5);

    await stub.add("a-batch-id", [["heady_mesh_pulses_total", 2]]);
    await stub.add("a-batch-id", [["heady_mesh_pulses_total", 2]]);
    expect(await read()).toBe(start + 7);
    await runInDurableObject(stub, (_instance, state) => {
      expect(state.storage.sql.exec("SELECT count(*) AS n FROM applied_batches WHERE id = 'a-batch-id'").one().n).toBe(1);
    });
  });

  it("where Analytics Engine is bound, each flushed series is written there too", async () => {
    await drainMetrics(env);
    const points: AnalyticsEngineDataPoint[] = [];
    const analytics = { writeDataPoint: (point: AnalyticsEngineDataPoint) => points.push(point) } as unknown as AnalyticsEngineDataset;
    countMetric("heady_logins_total", { result: "rate_limited" }, 2);
    await drainMetrics({ ...env, ANALYTICS: analytics });
    expect(points).toEqual([{ indexes: ["heady_logins_total"], blobs: ['heady_logins_total{result="rate_limited"}'], doubles: [2] }]);
  });
});

/**
 * In workerd a promise that waits on I/O belongs to the request that started it: a request that
 * awaits another request's flush (or hands it to its own `waitUntil`) fails with `Promise will
 * never complete.` once that request is cancelled (issue 22, item 13). So no request may get
 * another's flush, and a flush whose request went away must not hold the isolate's metrics.
 */
describe("the flush across requests", () => {
  const aggregatorStub = () => env.METRICS.get(env.METRICS.idFromName(METRICS_AGGREGATOR_NAME));
  const pulses = async () => new Map((await aggregatorStub().snapshot()) as [string, number][]).get("heady_mesh_pulses_total") ?? 0;

  /** An aggregator binding whose every `add` waits until the test settles it (resolve: the real aggregator applies it). */
  function heldAggregator() {
    const calls: { id: string; resolve: () => void; reject: (error: Error) => void }[] = [];
    const binding = {
      idFromName: (name: string) => env.METRICS.idFromName(name),
      get: () => ({
        add: (id: string, entries: [string, number][]) =>
          new Promise<void>((resolve, reject) => {
            calls.push({ id, resolve: () => resolve(aggregatorStub().add(id, entries)), reject });
          }),
      }),
    };
    return { calls, bindings: { ...env, METRICS: binding } as unknown as Bindings };
  }

  /** Moves the clock past the bound of every flush started so far (Date only; setTimeout too where asked). */
  function pastTheBound(timers: ("setTimeout" | "clearTimeout")[] = []): void {
    vi.useFakeTimers({ toFake: ["Date", ...timers] });
    vi.setSystemTime(Date.now() + FLUSH_ABANDONED_AFTER_MS + 1);
  }

  afterEach(() => vi.useRealTimers());

  const failedLogin = () =>
    new Request("https://id.heady.test/api/auth/login", {
      method: "POST",
      headers: { "Content-Type": "application/json", "CF-Connecting-IP": `198.51.100.${Math.floor(Math.random() * 200) + 20}` },
      body: JSON.stringify({ email: user.email, password: "not the password at all" }),
    });

  it("a request never waits on another request's flush: B's background work ends while A's flush is held, and A's flush takes B's counts", async () => {
    const before = await scrape();
    const held = heldAggregator();
    const app = createApp();
    forgetMetricsFlushForTests();

    const ctxA = createExecutionContext();
    expect((await app.fetch(failedLogin(), held.bindings, ctxA)).status).toBe(401);
    await vi.waitFor(() => expect(held.calls).toHaveLength(1)); // A's flush is in flight, held
    const ctxB = createExecutionContext();
    expect((await app.fetch(failedLogin(), env, ctxB)).status).toBe(401);

    // B's waitUntil holds nothing of A's: it settles while A's flush is still held.
    const b = await Promise.race([
      waitOnExecutionContext(ctxB).then(() => "settled"),
      new Promise((resolve) => setTimeout(resolve, 1000, "waiting")),
    ]);
    expect(b).toBe("settled");
    expect(held.calls).toHaveLength(1);

    held.calls[0]!.resolve();
    await vi.waitFor(() => expect(held.calls).toHaveLength(2)); // A's loop takes what B counted
    held.calls[1]!.resolve();
    await waitOnExecutionContext(ctxA);
    expect(hasUnflushedMetrics()).toBe(false);
    expect(delta(before, await scrape(), 'heady_logins_total{result="failed"}')).toBe(2);
  });

  it("a second caller of flushMetrics does not get the first caller's promise", async () => {
    const held = heldAggregator();
    forgetMetricsFlushForTests();
    countMetric("heady_mesh_pulses_total", {}, 1);
    const first = flushMetrics(held.bindings);
    countMetric("heady_mesh_pulses_total", {}, 1);
    const second = flushMetrics(env);
    expect(second).not.toBe(first);
    await second; // left its count to the flush in flight, without waiting for it
    expect(held.calls).toHaveLength(1);
    held.calls[0]!.resolve();
    await vi.waitFor(() => expect(held.calls).toHaveLength(2));
    held.calls[1]!.resolve();
    await first;
    expect(hasUnflushedMetrics()).toBe(false);
  });

  it("a flush that never settles (its request went away, its timers with it) stops holding later flushes after FLUSH_ABANDONED_AFTER_MS", async () => {
    const start = await pulses();
    // Faked timers never fire unless advanced: the held flush's 2 s bound never ends it, as in a cancelled request.
    vi.useFakeTimers({ toFake: ["Date", "setTimeout", "clearTimeout"] });
    const held = heldAggregator();
    forgetMetricsFlushForTests();
    countMetric("heady_mesh_pulses_total", {}, 4);
    void flushMetrics(held.bindings);
    await vi.waitFor(() => expect(held.calls).toHaveLength(1));

    countMetric("heady_mesh_pulses_total", {}, 1);
    await flushMetrics(env); // within the bound: left to the flush in flight
    expect(hasUnflushedMetrics()).toBe(true);
    expect(await pulses()).toBe(start);

    pastTheBound(["setTimeout", "clearTimeout"]);
    await flushMetrics(env); // past it: this one takes over and sends both batches
    expect(hasUnflushedMetrics()).toBe(false);
    expect(await pulses()).toBe(start + 5);
    held.calls[0]!.reject(new Error("the request went away")); // let the test's stand-in go; nothing changes
    expect(await pulses()).toBe(start + 5);
  });

  it("two drains at once never lose or double-apply a batch: the one that took over, and the abandoned one coming back", async () => {
    const start = await pulses();
    const held = heldAggregator();
    forgetMetricsFlushForTests();
    countMetric("heady_mesh_pulses_total", {}, 3);
    const a = flushMetrics(held.bindings); // sends batch X, held
    await vi.waitFor(() => expect(held.calls).toHaveLength(1));

    pastTheBound();
    countMetric("heady_mesh_pulses_total", {}, 4);
    const b = flushMetrics(held.bindings); // takes over: sends X again, then Y
    await vi.waitFor(() => expect(held.calls).toHaveLength(2));
    expect(held.calls.map((call) => call.id)).toEqual([held.calls[0]!.id, held.calls[0]!.id]);
    held.calls[1]!.resolve(); // X applied
    await vi.waitFor(() => expect(held.calls).toHaveLength(3));
    const y = held.calls[2]!.id;
    expect(y).not.toBe(held.calls[0]!.id);

    held.calls[0]!.resolve(); // A comes back with X (a duplicate, refused by id) while Y is in flight
    await a;
    held.calls[2]!.reject(new Error("Durable Object is overloaded.")); // Y fails: it must still be kept
    await b;
    expect(hasUnflushedMetrics()).toBe(true);
    expect(await pulses()).toBe(start + 3);

    await drainMetrics(env);
    expect(await pulses()).toBe(start + 7);
    await runInDurableObject(aggregatorStub(), (_instance, state) => {
      expect(state.storage.sql.exec("SELECT count(*) AS n FROM applied_batches WHERE id = ?", y).one().n).toBe(1);
    });
  });
});
