/**
 * Every metric the Worker exports, in the Prometheus text format's terms. The seed's PQC names come
 * first (`/metrics/pqc` serves those marked `pqc`); the identity, KMS and mesh counters follow.
 * Label values only ever come from configuration or fixed sets, never from a request as is, so
 * the number of series stays bounded.
 */

interface MetricDefinition {
  kind: "counter" | "histogram";
  help: string;
  labels: readonly string[];
  /** Histogram upper bounds, ascending; `+Inf` is implied. */
  buckets?: readonly number[];
  /** Served by `/metrics/pqc` as well. */
  pqc?: boolean;
}

/** Latency buckets in seconds, Prometheus clients' defaults with finer steps below 10 ms (ML-DSA verifies in well under 1 ms natively). */
const SECONDS_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] as const;

export const METRICS = {
  heady_pqc_tokens_generated_total: {
    kind: "counter",
    help: "PQC tokens issued, by service and operation.",
    labels: ["service", "operation"],
    pqc: true,
  },
  heady_pqc_verification_duration_seconds: {
    kind: "histogram",
    help: "Time to verify a presented PQC token or reference, by service and result (valid or invalid).",
    labels: ["service", "result"],
    buckets: SECONDS_BUCKETS,
    pqc: true,
  },
  heady_pqc_token_size_bytes: {
    kind: "histogram",
    help: "Size of issued PQC tokens in bytes.",
    labels: [],
    buckets: [1000, 2000, 3000, 4000, 5000],
    pqc: true,
  },
  heady_kms_requests_total: { kind: "counter", help: "KMS API calls (each attempt), by operation.", labels: ["operation"], pqc: true },
  heady_kms_errors_total: {
    kind: "counter",
    help: "Failed KMS API calls (each attempt), by operation and error type.",
    labels: ["operation", "type"],
    pqc: true,
  },
  heady_kms_request_duration_seconds: {
    kind: "histogram",
    help: "KMS API call latency (each attempt), by operation.",
    labels: ["operation"],
    buckets: SECONDS_BUCKETS,
    pqc: true,
  },
  heady_logins_total: { kind: "counter", help: "Sign-ins, by result (succeeded, failed, rate_limited).", labels: ["result"] },
  heady_token_refreshes_total: { kind: "counter", help: "Refresh-token rotations, by result (succeeded, failed).", labels: ["result"] },
  heady_refresh_reuse_detected_total: {
    kind: "counter",
    help: "Reuses of an already rotated refresh token (each revoked its family).",
    labels: [],
  },
  heady_api_key_verifications_total: { kind: "counter", help: "API-key verifications, by result (valid, invalid).", labels: ["result"] },
  heady_mesh_connections_total: { kind: "counter", help: "PulseMesh sockets admitted.", labels: [] },
  heady_mesh_refusals_total: {
    kind: "counter",
    help: "Mesh refusals (connects and emits), by the mesh's audit event name.",
    labels: ["event"],
  },
  heady_mesh_pulses_total: { kind: "counter", help: "PulseMesh pulses accepted and fanned out.", labels: [] },
  heady_onboarding_completions_total: { kind: "counter", help: "Onboardings completed (each created its API key).", labels: [] },
  heady_oauth_tokens_issued_total: {
    kind: "counter",
    help: "Token responses of the OAuth provider, by grant (authorization_code, refresh_token, client_credentials).",
    labels: ["grant"],
  },
  heady_oauth_refusals_total: { kind: "counter", help: "Refused OAuth requests, by endpoint (authorize, token).", labels: ["endpoint"] },
  heady_oauth_replays_total: {
    kind: "counter",
    help: "Authorization codes or app refresh tokens presented again (each revoked its refresh family).",
    labels: ["kind"],
  },
} as const satisfies Record<string, MetricDefinition>;

export type MetricName = keyof typeof METRICS;
export type CounterName = { [N in MetricName]: (typeof METRICS)[N]["kind"] extends "counter" ? N : never }[MetricName];
export type HistogramName = Exclude<MetricName, CounterName>;
/** The labels a metric takes, each required. */
export type MetricLabels<N extends MetricName> = Record<(typeof METRICS)[N]["labels"][number], string>;

const definition = (name: MetricName): MetricDefinition => METRICS[name];

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** `a="x",b="y"` in the definition's label order. */
function labelText(name: MetricName, labels: Record<string, string>): string {
  return definition(name)
    .labels.map((label) => `${label}="${escapeLabelValue(labels[label] ?? "")}"`)
    .join(",");
}

const withLabels = (series: string, text: string) => (text ? `${series}{${text}}` : series);
const withLe = (text: string, le: string) => (text ? `${text},le="${le}"` : `le="${le}"`);

/** The series one counter increment adds to. */
export function counterSeries(name: CounterName, labels: Record<string, string>): string {
  return withLabels(name, labelText(name, labels));
}

/** The series one histogram observation adds to, each with the amount: cumulative buckets, `_sum` and `_count`. */
export function histogramSeries(name: HistogramName, labels: Record<string, string>, value: number): [string, number][] {
  const text = labelText(name, labels);
  const buckets = definition(name).buckets ?? [];
  return [
    ...buckets.filter((bound) => value <= bound).map((bound): [string, number] => [`${name}_bucket{${withLe(text, String(bound))}}`, 1]),
    [`${name}_bucket{${withLe(text, "+Inf")}}`, 1],
    [withLabels(`${name}_sum`, text), value],
    [withLabels(`${name}_count`, text), 1],
  ];
}

/** The label text of a series: what is between its braces. */
function seriesLabels(series: string): string {
  const open = series.indexOf("{");
  return open < 0 ? "" : series.slice(open + 1, -1);
}

/** The exposition text (version 0.0.4) of `values`, every family (or only PQC ones) with HELP and TYPE, in registry order. */
export function renderPrometheus(values: ReadonlyMap<string, number>, options: { pqcOnly?: boolean } = {}): string {
  const lines: string[] = [];
  const all = [...values.keys()].sort();
  for (const name of Object.keys(METRICS) as MetricName[]) {
    const metric = definition(name);
    if (options.pqcOnly && !metric.pqc) continue;
    lines.push(`# HELP ${name} ${metric.help}`, `# TYPE ${name} ${metric.kind}`);
    if (metric.kind === "counter") {
      for (const series of all) if (series === name || series.startsWith(`${name}{`)) lines.push(`${series} ${values.get(series)}`);
      continue;
    }
    // Every label set observed has a _count; its buckets are listed in ascending order, then _sum and _count.
    for (const count of all.filter((series) => series === `${name}_count` || series.startsWith(`${name}_count{`))) {
      const text = seriesLabels(count);
      for (const le of [...(metric.buckets ?? []).map(String), "+Inf"]) {
        const bucket = `${name}_bucket{${withLe(text, le)}}`;
        lines.push(`${bucket} ${values.get(bucket) ?? 0}`);
      }
      const sum = withLabels(`${name}_sum`, text);
      lines.push(`${sum} ${values.get(sum) ?? 0}`, `${count} ${values.get(count)}`);
    }
  }
  return `${lines.join("\n")}\n`;
}
