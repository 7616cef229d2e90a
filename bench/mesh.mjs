// PulseMesh throughput: N subscribers and a few emitters on one topic, real `ws` clients on
// loopback, for a fixed duration. Measures pulses delivered per second at the subscribers (every
// pulse fans out to each of them), the delivery latency (emit → subscriber, same clock), the
// connect latency, and workerd's CPU per delivered pulse. Each case runs in token mode (the main
// Worker, PULSE_AUTH_MODE=token) and in stub mode (a variant Worker of the same bundle, same
// workerd process, PULSE_AUTH_MODE=stub), interleaved (runMeshPair); the ratio is the cost of auth.
import WebSocket from "ws";
import { settle } from "./load.mjs";
import { processCpuSeconds } from "./server.mjs";

/** Every node in the bench has this role: `reasoner` may emit to and listen on `reasoner.>`. */
export const MESH_ROLE = "reasoner";
export const meshTopic = (subscribers) => `reasoner.bench.n${subscribers}`;
export const EMITTERS = 2;
/** Pulses each emitter keeps in flight (sent, not yet acknowledged by the topic object). */
export const WINDOW = 16;
const CONNECT_BATCH = 10;
const LATENCY_SAMPLERS = 10;
const MAX_LATENCY_SAMPLES = 200_000;
const PAYLOAD = "x".repeat(64);

const percentile = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : null);
const round = (value, digits = 2) => (value === null ? null : Math.round(value * 10 ** digits) / 10 ** digits);

/** One `ws` client: collects frames, counts pulses, notices errors and closes. */
class Node {
  constructor(url, protocols) {
    this.pulses = 0;
    this.errors = [];
    this.closed = null;
    this.sampleLatency = false;
    this.latencies = null;
    this.waiters = [];
    this.openedAt = performance.now();
    this.socket = new WebSocket(url, protocols, { perMessageDeflate: false });
    this.socket.on("message", (data) => this.onFrame(data));
    this.socket.on("close", (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      for (const waiter of this.waiters.splice(0)) waiter.reject(new Error(`socket closed ${code} ${reason}`));
    });
    this.socket.on("error", (error) => this.errors.push(`socket error: ${error.message}`));
  }

  onFrame(data) {
    const text = data.toString();
    // The hot path: a fan-out pulse (the only frame a subscriber gets after its connect ack).
    if (text.startsWith('{"type":"pulse"')) {
      this.pulses++;
      if (this.sampleLatency && this.latencies.length < MAX_LATENCY_SAMPLES) {
        const sent = JSON.parse(text).data.t;
        this.latencies.push(performance.now() - sent);
      }
      return;
    }
    const frame = JSON.parse(text);
    if (frame.type === "error") this.errors.push(`${frame.code}: ${frame.message}`);
    this.onControl?.(frame);
    for (const waiter of [...this.waiters]) {
      if (waiter.match(frame)) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(frame);
      }
    }
  }

  next(match, timeoutMs = 10_000) {
    return new Promise((resolve, reject) => {
      const waiter = { match, resolve, reject };
      this.waiters.push(waiter);
      setTimeout(() => {
        const index = this.waiters.indexOf(waiter);
        if (index === -1) return;
        this.waiters.splice(index, 1);
        reject(
          new Error(`no matching frame within ${timeoutMs} ms${this.closed ? ` (closed ${this.closed.code} ${this.closed.reason})` : ""}`),
        );
      }, timeoutMs);
    });
  }

  /** Opens and waits for the topic's connect ack; the connect latency is open → ack. */
  async joined() {
    const ack = await this.next((frame) => frame.type === "ack" && frame.of === "connect");
    this.connectMs = performance.now() - this.openedAt;
    return ack;
  }

  send(frame) {
    this.socket.send(JSON.stringify(frame));
  }

  close() {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once("close", () => resolve());
      this.socket.close(1000, "bench done");
      setTimeout(() => {
        this.socket.terminate();
        resolve();
      }, 2000);
    });
  }
}

/**
 * How a node connects: in token mode with its node token as the `bearer.<token>` subprotocol
 * beside `pulse.v1` (the way the route prefers: query strings end up in logs); in stub mode with
 * `?node_id=&role=` and no token at all.
 */
function connect(baseUrl, topic, mode, nodeId, tokens) {
  const url = `${baseUrl.replace(/^http/, "ws")}/ws/mesh/${topic}`;
  if (mode === "stub") return new Node(`${url}?node_id=${encodeURIComponent(nodeId)}&role=${MESH_ROLE}`, ["pulse.v1"]);
  const token = tokens.get(nodeId);
  if (!token) throw new Error(`setup: no node token for ${nodeId}`);
  return new Node(url, ["pulse.v1", `bearer.${token}`]);
}

export const subscriberIds = (count) => Array.from({ length: count }, (_, i) => `bench-sub-${i}`);
export const emitterIds = () => Array.from({ length: EMITTERS }, (_, i) => `bench-emit-${i}`);

/** One mode's sockets on the topic: N subscribers, then the emitters (which unsubscribe). */
export async function openMesh(baseUrl, mode, subscribers, tokens) {
  const topic = meshTopic(subscribers);
  const subs = [];
  const emitters = [];
  const close = () => Promise.all([...subs, ...emitters].map((node) => node.close()));
  try {
    // Subscribers first, in small parallel batches, each waiting for its connect ack.
    const ids = subscriberIds(subscribers);
    for (let i = 0; i < ids.length; i += CONNECT_BATCH) {
      const batch = ids.slice(i, i + CONNECT_BATCH).map((id) => connect(baseUrl, topic, mode, id, tokens));
      subs.push(...batch);
      await Promise.all(batch.map((node) => node.joined()));
    }
    for (const id of emitterIds()) {
      const node = connect(baseUrl, topic, mode, id, tokens);
      emitters.push(node);
      await node.joined();
      // Emitters only emit: they stop receiving the topic's pulses (each other's).
      node.send({ type: "unsubscribe", id: "unsub" });
      await node.next((frame) => frame.type === "ack" && frame.of === "unsubscribe");
    }
  } catch (error) {
    await close();
    throw new Error(`mesh ${mode} ${subscribers}: connect failed: ${error.message}`);
  }
  const all = [...subs, ...emitters];
  return {
    mode,
    subscribers,
    subs,
    emitters,
    all,
    close,
    connectMs: all.map((node) => node.connectMs).sort((a, b) => a - b),
    totals: { wallSeconds: 0, delivered: 0, emitted: 0, workerdCpuSeconds: 0, nodeCpuSeconds: 0, cpuKnown: true, sent: 0, acked: 0 },
    problems: [],
    shortAcks: 0,
    latencies: [],
    segments: [],
  };
}

const delivered = (mesh) => mesh.subs.reduce((sum, node) => sum + node.pulses, 0);

/**
 * One segment of load on an open mesh: the emitters pump (WINDOW pulses in flight each, a new one
 * as each ack comes back) for `leadInSeconds` unmeasured, then `seconds` measured; then they stop
 * and the segment waits until every acknowledged pulse has reached every subscriber.
 */
export async function pumpSegment(mesh, { seconds, leadInSeconds, workerdPid }) {
  const { subscribers } = mesh;
  let running = true;
  let sent = 0;
  let acked = 0;
  const deliveredAtStart = delivered(mesh);
  for (const node of mesh.emitters) {
    let seq = 0;
    const emit = () => {
      if (!running || node.closed) return;
      sent++;
      node.send({ type: "pulse", id: ++seq, data: { t: performance.now(), p: PAYLOAD } });
    };
    node.onControl = (frame) => {
      if (frame.type === "ack" && frame.of === "pulse") {
        acked++;
        if (frame.delivered !== subscribers) {
          mesh.shortAcks++;
          if (mesh.problems.length < 3) mesh.problems.push(`an ack said delivered ${frame.delivered}, expected ${subscribers}`);
        }
        emit();
      } else if (frame.type === "error") emit();
    };
    for (let i = 0; i < WINDOW; i++) emit();
  }
  await new Promise((resolve) => setTimeout(resolve, leadInSeconds * 1000));
  for (const node of mesh.subs.slice(0, LATENCY_SAMPLERS)) {
    node.latencies = mesh.latencies;
    node.sampleLatency = true;
  }
  const workerdBefore = processCpuSeconds(workerdPid);
  const nodeBefore = process.cpuUsage();
  const deliveredBefore = delivered(mesh);
  const ackedBefore = acked;
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const wallSeconds = (performance.now() - started) / 1000;
  const t = mesh.totals;
  const segmentDelivered = delivered(mesh) - deliveredBefore;
  t.delivered += segmentDelivered;
  t.emitted += acked - ackedBefore;
  const workerdAfter = processCpuSeconds(workerdPid);
  const segmentCpu = workerdBefore === null || workerdAfter === null ? null : workerdAfter - workerdBefore;
  if (segmentCpu === null) t.cpuKnown = false;
  else t.workerdCpuSeconds += segmentCpu;
  mesh.segments.push({
    rps: segmentDelivered / wallSeconds,
    cpuMsPerPulse: segmentCpu === null || !segmentDelivered ? null : (segmentCpu * 1000) / segmentDelivered,
  });
  const node = process.cpuUsage(nodeBefore);
  t.nodeCpuSeconds += (node.user + node.system) / 1e6;
  t.wallSeconds += wallSeconds;
  for (const sub of mesh.subs) sub.sampleLatency = false;

  // Stop, and let the last pulses in flight arrive: every acknowledged pulse must reach every subscriber.
  running = false;
  const deadline = performance.now() + 5000;
  while (performance.now() < deadline && (acked < sent || delivered(mesh) - deliveredAtStart < acked * subscribers)) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  t.sent += sent;
  t.acked += acked;
  t.lost = (t.lost ?? 0) + Math.max(0, acked * subscribers - (delivered(mesh) - deliveredAtStart));
}

/** A mesh's totals, shaped like `runLoad`'s answer so the table can show it beside the HTTP rows. */
export function meshResult(mesh, extra) {
  const t = mesh.totals;
  const latencies = mesh.latencies.sort((a, b) => a - b);
  const unanswered = t.sent - t.acked;
  const errorFrames = mesh.all.reduce((sum, n) => sum + n.errors.length, 0);
  const closedEarly = mesh.all.filter((n) => n.closed).length;
  const errorSamples = [...new Set([...mesh.problems, ...mesh.all.flatMap((n) => n.errors)])].slice(0, 5);
  if (t.lost) errorSamples.push(`${t.lost} pulses acknowledged but not delivered`);
  if (closedEarly)
    errorSamples.push(`${closedEarly} sockets closed during the run: ${mesh.all.find((n) => n.closed)?.closed?.reason ?? ""}`);
  const cpu = t.cpuKnown ? t.workerdCpuSeconds : null;
  return {
    rps: t.delivered / t.wallSeconds,
    emittedPerSecond: t.emitted / t.wallSeconds,
    requests: t.delivered,
    emitted: t.emitted,
    durationSeconds: round(t.wallSeconds, 3),
    latencyMs: {
      p50: round(percentile(latencies, 50)),
      p90: round(percentile(latencies, 90)),
      p99: round(percentile(latencies, 99)),
      max: round(latencies.at(-1) ?? null),
      samples: latencies.length,
    },
    connectMs: {
      p50: round(percentile(mesh.connectMs, 50)),
      p99: round(percentile(mesh.connectMs, 99)),
      max: round(mesh.connectMs.at(-1) ?? null),
      sockets: mesh.connectMs.length,
    },
    errors: errorFrames + (t.lost ?? 0) + unanswered + closedEarly + mesh.shortAcks,
    non2xx: 0,
    connectionErrors: closedEarly,
    timeouts: unanswered,
    statusCodes: {},
    lostPulses: t.lost ?? 0,
    shortAcks: mesh.shortAcks,
    errorFrames,
    errorSamples,
    workerdCpuSeconds: cpu,
    workerdCores: cpu === null ? null : cpu / t.wallSeconds,
    // Per delivered pulse (not per emit): the unit the rps column counts.
    workerdCpuMsPerRequest: cpu === null || t.delivered === 0 ? null : (cpu * 1000) / t.delivered,
    workerdCpuMsPerEmit: cpu === null || t.emitted === 0 ? null : (cpu * 1000) / t.emitted,
    loadGeneratorCores: t.nodeCpuSeconds / t.wallSeconds,
    mode: mesh.mode,
    subscribers: mesh.subscribers,
    emitters: EMITTERS,
    window: WINDOW,
    ...extra,
  };
}

/**
 * Token mode against stub mode for one subscriber count, interleaved: both meshes are opened
 * (token on `baseUrls.token`, stub on `baseUrls.stub`; idle hibernatable sockets cost nothing),
 * then loaded in turn in the order token, stub, stub, token (ABBA), `rounds` times, so that a
 * machine whose speed drifts during the pair favours neither mode; each mode gets `durationSeconds`
 * of measured load in all, in 2 × `rounds` segments, and its figures are the sums over them.
 * (Single 10 s runs one after the other differed by ±15% on this shared machine; interleaved, the
 * same Worker against itself comes out within ~3%.)
 */
export async function runMeshPair({ baseUrls, subscribers, tokens, durationSeconds, warmupSeconds, workerdPid, rounds = 1 }) {
  const settledSeconds = await settle(workerdPid);
  const token = await openMesh(baseUrls.token, "token", subscribers, tokens);
  let stub;
  try {
    stub = await openMesh(baseUrls.stub, "stub", subscribers, tokens);
  } catch (error) {
    await token.close();
    throw error;
  }
  const order = Array.from({ length: rounds }, () => [token, stub, stub, token]).flat();
  const segments = order.map((mesh) => mesh.mode).join(", ");
  const warmed = new Set();
  try {
    for (const mesh of order) {
      await settle(workerdPid);
      // The first segment of each mode warms it up for longer; later ones only ramp up.
      const leadInSeconds = warmed.has(mesh) ? Math.min(0.5, warmupSeconds) : warmupSeconds;
      warmed.add(mesh);
      await pumpSegment(mesh, { seconds: durationSeconds / (2 * rounds), leadInSeconds, workerdPid });
    }
    // Before closing: a socket closed by now was closed by the mesh, which is an error.
    return {
      token: meshResult(token, { settledSeconds, segments, pairs: segmentPairs(order) }),
      stub: meshResult(stub, { settledSeconds, segments }),
    };
  } finally {
    await Promise.all([token.close(), stub.close()]);
  }
}

const median = (values) => {
  const sorted = values.filter((v) => v !== null && Number.isFinite(v)).sort((a, b) => a - b);
  if (!sorted.length) return null;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/**
 * Token against stub for each adjacent pair of segments (token–stub, stub–token, …), and their
 * median: one segment slowed by something else on the machine moves one pair, not the answer.
 */
function segmentPairs(order) {
  const seen = new Map();
  const taken = order.map((mesh) => {
    const index = seen.get(mesh) ?? 0;
    seen.set(mesh, index + 1);
    return { mode: mesh.mode, ...mesh.segments[index] };
  });
  const throughput = [];
  const cpu = [];
  for (let i = 0; i + 1 < taken.length; i += 2) {
    const token = taken[i].mode === "token" ? taken[i] : taken[i + 1];
    const stub = taken[i].mode === "token" ? taken[i + 1] : taken[i];
    throughput.push(stub.rps ? token.rps / stub.rps : null);
    cpu.push(token.cpuMsPerPulse && stub.cpuMsPerPulse ? stub.cpuMsPerPulse / token.cpuMsPerPulse : null);
  }
  const r3 = (v) => (v === null ? null : Math.round(v * 1000) / 1000);
  return {
    throughput: throughput.map(r3),
    cpu: cpu.map(r3),
    medianThroughput: r3(median(throughput)),
    medianCpu: r3(median(cpu)),
    segments: taken,
  };
}

/**
 * Node tokens from SAGE (`POST /api/sage/token`) for the emitters and `count` subscribers, added
 * to `tokens` for the nodes that have none yet. Issuance is limited to 60 a minute per caller, so
 * the bench issues through two operators: the bootstrap admin, and a user it registers and
 * promotes to operator (`PUT /api/admin/users/:id/role`), who signs in again to carry the new
 * role. Tokens live 24 h, so each node's token serves every case of the run.
 */
const TOKENS_PER_ISSUER = 55;
export async function issueNodeTokens(fx, count, tokens) {
  const ids = [...emitterIds(), ...subscriberIds(count)].filter((id) => !tokens.has(id));
  if (ids.length === 0) return tokens;
  const issuers = await fx.operators();
  for (const nodeId of ids) {
    const issuer = issuers[Math.floor(tokens.size / TOKENS_PER_ISSUER)];
    if (!issuer)
      throw new Error(
        `setup: more than ${issuers.length * TOKENS_PER_ISSUER} node tokens would hit SAGE's limit of 60 a minute per issuer`,
      );
    const { body } = await fx.expect(
      fx.api("POST", "/api/sage/token", { json: { node_id: nodeId, role: MESH_ROLE }, headers: { authorization: `Bearer ${issuer}` } }),
      200,
      "POST /api/sage/token",
    );
    tokens.set(nodeId, body.token);
  }
  return tokens;
}
