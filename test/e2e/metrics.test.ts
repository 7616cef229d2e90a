import { describe, expect, inject, it } from "vitest";
import { request } from "../support/e2e/client";
import { uniqueEmail } from "../support/fresh";
import { delta, parseSamples } from "../support/prometheus";

/** A scrape of `/metrics` from wrangler dev, with the bearer token Prometheus would send, parsed into samples. */
async function scrape(path = "/metrics"): Promise<Map<string, number>> {
  const response = await request("GET", path, { token: inject("metricsToken") });
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  return parseSamples(response.text);
}

describe("/metrics against wrangler dev", () => {
  it("after a known number of issuances and verifications, the scrape shows exactly those counts", async () => {
    const { body: user } = await request("POST", "/api/auth/register", {
      body: { email: uniqueEmail("metrics"), password: "violet harbour sextant owl" },
    });
    const before = await scrape();
    const tokens: string[] = [];
    for (let i = 0; i < 5; i++) {
      const issued = await request("POST", "/api/auth/request-pqc-token", {
        token: user.accessToken,
        body: { service: "headyme", operation: "sync" },
      });
      expect(issued.status).toBe(200);
      tokens.push(issued.body.pqcToken);
    }
    for (const token of [...tokens, ...tokens.slice(0, 2)]) {
      expect((await request("GET", "/api/auth/verify", { headers: { "X-Heady-PQC-Token": token } })).status).toBe(200);
    }
    expect((await request("GET", "/api/auth/verify", { headers: { "X-Heady-PQC-Token": `${tokens[0]!.slice(0, -4)}AAAA` } })).status).toBe(
      401,
    );
    const after = await scrape();

    expect(delta(before, after, 'heady_pqc_tokens_generated_total{service="headyme",operation="sync"}')).toBe(5);
    expect(delta(before, after, "heady_pqc_token_size_bytes_count")).toBe(5);
    expect(delta(before, after, 'heady_pqc_verification_duration_seconds_count{service="headyme",result="valid"}')).toBe(7);
    expect(delta(before, after, 'heady_pqc_verification_duration_seconds_count{service="unknown",result="invalid"}')).toBe(1);

    const pqc = await scrape("/metrics/pqc");
    expect(pqc.get('heady_pqc_tokens_generated_total{service="headyme",operation="sync"}')).toBe(
      after.get('heady_pqc_tokens_generated_total{service="headyme",operation="sync"}'),
    );
    expect([...pqc.keys()].some((series) => series.startsWith("heady_logins_total"))).toBe(false);
  });

  it("without the metrics secret or an admin: 401 in the JSON envelope", async () => {
    const response = await request("GET", "/metrics");
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe("unauthorized");
  });
});
