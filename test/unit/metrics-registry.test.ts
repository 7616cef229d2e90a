import { describe, expect, it } from "vitest";
import { counterSeries, histogramSeries, METRICS, renderPrometheus } from "../../src/metrics/registry";

/** Sums series the way the aggregator does. */
function totals(entries: [string, number][]): Map<string, number> {
  const sums = new Map<string, number>();
  for (const [series, amount] of entries) sums.set(series, (sums.get(series) ?? 0) + amount);
  return sums;
}

describe("the metric registry", () => {
  it("has the seed's names, labels and token-size buckets", () => {
    expect(METRICS.heady_pqc_tokens_generated_total).toMatchObject({ kind: "counter", labels: ["service", "operation"] });
    expect(METRICS.heady_pqc_verification_duration_seconds).toMatchObject({ kind: "histogram", labels: ["service", "result"] });
    expect(METRICS.heady_pqc_token_size_bytes).toMatchObject({ kind: "histogram", buckets: [1000, 2000, 3000, 4000, 5000] });
  });

  it("a counter's series names its labels in the definition's order, escaped", () => {
    expect(counterSeries("heady_pqc_tokens_generated_total", { operation: "sync", service: "headyme" })).toBe(
      'heady_pqc_tokens_generated_total{service="headyme",operation="sync"}',
    );
    expect(counterSeries("heady_logins_total", { result: 'a"b\\c\nd' })).toBe('heady_logins_total{result="a\\"b\\\\c\\nd"}');
    expect(counterSeries("heady_mesh_pulses_total", {})).toBe("heady_mesh_pulses_total");
  });

  it("a histogram observation adds to every bucket at or above it, +Inf, _sum and _count", () => {
    const sums = totals([
      ...histogramSeries("heady_pqc_token_size_bytes", {}, 4618),
      ...histogramSeries("heady_pqc_token_size_bytes", {}, 2000),
    ]);
    const text = renderPrometheus(sums, { pqcOnly: true });
    expect(text).toContain(
      [
        "# TYPE heady_pqc_token_size_bytes histogram",
        'heady_pqc_token_size_bytes_bucket{le="1000"} 0',
        'heady_pqc_token_size_bytes_bucket{le="2000"} 1',
        'heady_pqc_token_size_bytes_bucket{le="3000"} 1',
        'heady_pqc_token_size_bytes_bucket{le="4000"} 1',
        'heady_pqc_token_size_bytes_bucket{le="5000"} 2',
        'heady_pqc_token_size_bytes_bucket{le="+Inf"} 2',
        "heady_pqc_token_size_bytes_sum 6618",
        "heady_pqc_token_size_bytes_count 2",
      ].join("\n"),
    );
  });

  it("labelled histograms list le after the labels; /metrics/pqc leaves the identity families out", () => {
    const sums = totals([
      ...histogramSeries("heady_pqc_verification_duration_seconds", { service: "headyme", result: "valid" }, 0.002),
      [counterSeries("heady_logins_total", { result: "succeeded" }), 3],
    ]);
    const pqc = renderPrometheus(sums, { pqcOnly: true });
    expect(pqc).toContain('heady_pqc_verification_duration_seconds_bucket{service="headyme",result="valid",le="0.001"} 0');
    expect(pqc).toContain('heady_pqc_verification_duration_seconds_bucket{service="headyme",result="valid",le="0.0025"} 1');
    expect(pqc).toContain('heady_pqc_verification_duration_seconds_count{service="headyme",result="valid"} 1');
    expect(pqc).not.toContain("heady_logins_total");
    const all = renderPrometheus(sums);
    expect(all).toContain('# TYPE heady_logins_total counter\nheady_logins_total{result="succeeded"} 3\n');
    expect(all.endsWith("\n")).toBe(true);
  });
});
