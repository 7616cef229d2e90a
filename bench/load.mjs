// One timed load with autocannon on loopback, with the CPU both sides used while it ran.
import autocannon from "autocannon";
import { processCpuSeconds } from "./server.mjs";

const settleDefaults = { idleCores: 0.15, windowMs: 250, maxMs: 10_000 };
/** The idle check's window (--quick shortens it). */
export function configureSettle(options) {
  Object.assign(settleDefaults, options);
}

/**
 * Waits until workerd is idle (under 0.15 of a core over 250 ms, or 150 ms with --quick; at most 10 s): a CPU-bound
 * scenario such as login leaves queued requests that workerd finishes after autocannon stops,
 * and they must not be counted against the next measurement.
 */
export async function settle(
  workerdPid,
  { idleCores = settleDefaults.idleCores, windowMs = settleDefaults.windowMs, maxMs = settleDefaults.maxMs } = {},
) {
  const started = performance.now();
  if (!workerdPid) return 0;
  for (;;) {
    const before = processCpuSeconds(workerdPid);
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    const after = processCpuSeconds(workerdPid);
    if (before === null || after === null) return 0;
    if ((after - before) / (windowMs / 1000) < idleCores || performance.now() - started > maxMs) {
      return (performance.now() - started) / 1000;
    }
  }
}

/**
 * `spec` is what a scenario's `load()` returns: either a fixed request
 * (`{ method, path, headers, body }`) or autocannon `requests` with `setupRequest`/`onResponse`
 * hooks for requests that change every time (rotating accounts, one-time refresh tokens).
 * `tail: false` (warm-ups) skips waiting for workerd to go idle afterwards; the next run waits before it starts.
 */
export async function runLoad({ baseUrl, spec, connections, durationSeconds, workerdPid, tail = true }) {
  const settledSeconds = await settle(workerdPid);
  const workerdBefore = processCpuSeconds(workerdPid);
  const nodeBefore = process.cpuUsage();
  const wallStart = performance.now();
  const result = await autocannon({
    url: `${baseUrl}${spec.path ?? "/"}`,
    method: spec.method ?? "GET",
    headers: spec.headers,
    body: spec.body,
    requests: spec.requests,
    connections,
    duration: durationSeconds,
    pipelining: 1,
    timeout: spec.timeoutSeconds ?? 10,
  });
  const wallSeconds = (performance.now() - wallStart) / 1000;
  const workerdAfter = processCpuSeconds(workerdPid);
  const node = process.cpuUsage(nodeBefore);
  const workerdCpuSeconds = workerdBefore === null || workerdAfter === null ? null : workerdAfter - workerdBefore;
  // Each connection still has one request in flight when autocannon stops; workerd finishes them
  // afterwards. Their CPU (the tail, until workerd is idle) and their count both go into the
  // per-request figure, which matters for slow routes such as login.
  const tailSeconds = tail ? await settle(workerdPid) : 0;
  const workerdFinal = processCpuSeconds(workerdPid);
  const tailCpuSeconds = workerdAfter === null || workerdFinal === null ? null : workerdFinal - workerdAfter;
  const nodeCpuSeconds = (node.user + node.system) / 1e6;
  const total = result.requests.total;
  const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, { count }]) => [code, count]));
  const errors = result.non2xx + result.errors + result.timeouts + (result.mismatches ?? 0);
  return {
    // Responses per second over the run (autocannon's own per-second average is kept beside it).
    rps: result.duration > 0 ? total / result.duration : result.requests.average,
    rpsAutocannonAverage: result.requests.average,
    requests: total,
    durationSeconds: result.duration,
    latencyMs: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
      mean: result.latency.mean,
    },
    errors,
    non2xx: result.non2xx,
    connectionErrors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
    workerdCpuSeconds,
    workerdCores: workerdCpuSeconds === null ? null : workerdCpuSeconds / wallSeconds,
    workerdCpuMsPerRequest:
      workerdCpuSeconds === null || tailCpuSeconds === null || total === 0
        ? null
        : ((workerdCpuSeconds + tailCpuSeconds) * 1000) / (total + connections),
    workerdTailCpuSeconds: tailCpuSeconds,
    tailSeconds,
    loadGeneratorCores: nodeCpuSeconds / wallSeconds,
    settledSeconds,
  };
}
