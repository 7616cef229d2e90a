import { beforeAll, describe, expect, it } from "vitest";
import { HeadyPQCClient, type HeadyPQCClientOptions, HeadyPQCError, PQC_TOKEN_HEADER, retryAfterMs } from "../../src/clients/pqc";
import { apiKeyFor, registerUser, type SignedIn } from "../support/accounts";
import { BASE_URL } from "../support/config";
import { decodePayload } from "../support/tokens";
import { worker } from "../support/worker";

/**
 * HeadyPQCClient against the real Worker (its fetch handler in this workerd): caching, single
 * flight, renewal at 80 % of a token's life on the client's clock, references, and the retry
 * rules, with 5xx and 429 answers put in front of the Worker where a test needs them.
 */

let user: SignedIn;
beforeAll(async () => {
  user = await registerUser();
});

interface Harness {
  client: HeadyPQCClient;
  /** Token requests that reached the Worker (or a fault in front of it). */
  requests: Request[];
  sleeps: number[];
  clock: { now: number };
}

/** A client whose fetch goes to the Worker; `faults` answers the first token requests instead of it. */
function harness(options: Partial<HeadyPQCClientOptions> = {}, faults: Response[] = []): Harness {
  const requests: Request[] = [];
  const sleeps: number[] = [];
  const clock = { now: Date.now() };
  const client = new HeadyPQCClient({
    baseUrl: BASE_URL,
    credential: user.accessToken,
    now: () => clock.now,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    fetch: async (input, init) => {
      const request = new Request(input, init);
      if (new URL(request.url).pathname === "/api/auth/request-pqc-token") {
        requests.push(request.clone());
        const fault = faults.shift();
        if (fault) return fault;
      }
      request.headers.set("CF-Connecting-IP", "203.0.113.50");
      return worker(request);
    },
    ...options,
  });
  return { client, requests, sleeps, clock };
}

const jti = (token: string) => decodePayload(token).jti as string;
const lifeMs = (token: string) => {
  const { iat, exp } = decodePayload(token) as { iat: number; exp: number };
  return (exp - iat) * 1000;
};
const serviceUnavailable = () =>
  Response.json({ error: { code: "unavailable", message: "try again" } }, { status: 503, headers: { "Retry-After": "1" } });

describe("tokens: cached, shared, renewed", () => {
  it("asks once and serves the cached token after that", async () => {
    const { client, requests } = harness();
    const first = await client.token("headyme", "sync");
    expect(await client.token("headyme", "sync")).toBe(first);
    expect(requests).toHaveLength(1);
    expect(decodePayload(first)).toMatchObject({ service: "headyme", operation: "sync", sub: user.userId });
  });

  it("concurrent callers share one request", async () => {
    const { client, requests } = harness();
    const tokens = await Promise.all(Array.from({ length: 10 }, () => client.token("headyme", "sync")));
    expect(new Set(tokens).size).toBe(1);
    expect(requests).toHaveLength(1);
  });

  it("a caller that finds a request stuck past its bound (its Worker request went away) asks for itself instead of waiting on it", async () => {
    let asked = 0;
    const { client, clock } = harness({
      fetch: async (input, init) => {
        asked += 1;
        if (asked === 1) return new Promise<Response>(() => {}); // never answers
        const request = new Request(input, init);
        request.headers.set("CF-Connecting-IP", "203.0.113.50");
        return worker(request);
      },
    });
    const first = client.token("headyme", "sync");
    let firstSettled = false;
    void first.catch(() => {}).finally(() => (firstSettled = true));
    await expect.poll(() => asked).toBe(1);
    clock.now += 60 * 60_000; // past the longest a request can take
    expect(decodePayload(await client.token("headyme", "sync"))).toMatchObject({ service: "headyme", operation: "sync" });
    expect(firstSettled).toBe(false);
  });

  it("renews at 80 % of the life: the same token at 79 %, a new one at 81 %", async () => {
    const { client, requests, clock } = harness();
    const first = await client.token("headyme", "sync");
    const life = lifeMs(first);
    clock.now += life * 0.79;
    expect(await client.token("headyme", "sync")).toBe(first);
    clock.now += life * 0.02;
    const renewed = await client.token("headyme", "sync");
    expect(jti(renewed)).not.toBe(jti(first));
    expect(requests).toHaveLength(2);
  });

  it("a failed renewal keeps the still-valid token; once it has expired, the failure is the caller's", async () => {
    const faults: Response[] = [];
    const { client, clock } = harness({ maxAttempts: 1 }, faults);
    const first = await client.token("headyme", "sync");
    const life = lifeMs(first);
    clock.now += life * 0.9;
    faults.push(serviceUnavailable());
    expect(await client.token("headyme", "sync")).toBe(first);
    clock.now += life * 0.2;
    faults.push(serviceUnavailable());
    await expect(client.token("headyme", "sync")).rejects.toMatchObject({ name: "HeadyPQCError", status: 503, code: "unavailable" });
  });

  it("asks for references when told to, and fetch() sends the header an endpoint reads", async () => {
    const { client, requests } = harness({ references: true });
    const reference = await client.token("headyme", "sync");
    expect(reference).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await requests[0]!.json()).toEqual({ service: "headyme", operation: "sync", reference: true });
    const verified = await client.fetch("headyme", "sync", `${BASE_URL}/api/auth/verify`);
    expect(verified.status).toBe(200);
    expect(await verified.json()).toMatchObject({ valid: true, kind: "pqc_token", reference: true, service: "headyme" });
  });

  it("an API key goes in X-API-Key", async () => {
    const key = await apiKeyFor(user, ["pqc:headyme"]);
    const { client, requests } = harness({ credential: () => key });
    expect(decodePayload(await client.token("headyme", "sync")).sub).toBe(user.userId);
    expect(requests[0]!.headers.get("X-API-Key")).toBe(key);
    expect(requests[0]!.headers.get("Authorization")).toBeNull();
    expect(PQC_TOKEN_HEADER).toBe("X-Heady-PQC-Token");
  });
});

describe("retries", () => {
  it("retries 5xx with backoff and jitter, then succeeds", async () => {
    const { client, requests, sleeps } = harness({}, [serviceUnavailable(), new Response("bad gateway", { status: 502 })]);
    expect(decodePayload(await client.token("headyme", "sync")).service).toBe("headyme");
    expect(requests).toHaveLength(3);
    // Retry-After 1 s on the first; full jitter (random 0.5) of the 400 ms ceiling on the second.
    expect(sleeps).toEqual([1000, 200]);
  });

  it("honours Retry-After on 429, and gives up at once on one longer than it will wait", async () => {
    const limited = (after: string) =>
      Response.json({ error: { code: "rate_limited", message: "slow down" } }, { status: 429, headers: { "Retry-After": after } });
    const { client, sleeps } = harness({}, [limited("7")]);
    await client.token("headyme", "sync");
    expect(sleeps).toEqual([7000]);

    const impatient = harness({ maxRetryAfterMs: 5000 }, [limited("60")]);
    await expect(impatient.client.token("headyme", "sync")).rejects.toMatchObject({ status: 429, code: "rate_limited" });
    expect(impatient.requests).toHaveLength(1);
  });

  it("never retries 401 or 403: the Worker's own refusals come back at once", async () => {
    const unauthenticated = harness({ credential: "not-a-valid-token" });
    const refused = await unauthenticated.client.token("headyme", "sync").catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(HeadyPQCError);
    expect(refused).toMatchObject({ status: 401 });
    expect(unauthenticated.requests).toHaveLength(1);

    const forbidden = harness();
    await expect(forbidden.client.token("admin", "manage")).rejects.toMatchObject({ status: 403, code: "forbidden" });
    expect(forbidden.requests).toHaveLength(1);
    expect(forbidden.sleeps).toEqual([]);
  });

  it("stops after maxAttempts with the last failure", async () => {
    const { client, requests } = harness({ maxAttempts: 3 }, [serviceUnavailable(), serviceUnavailable(), serviceUnavailable()]);
    await expect(client.token("headyme", "sync")).rejects.toMatchObject({ status: 503 });
    expect(requests).toHaveLength(3);
  });

  it("reads Retry-After as seconds or an HTTP date", () => {
    expect(retryAfterMs("3", 0)).toBe(3000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4000)).toBe(6000);
    expect(retryAfterMs("soon", 0)).toBeUndefined();
    expect(retryAfterMs(null, 0)).toBeUndefined();
  });
});
