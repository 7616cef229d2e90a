import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, inject, it } from "vitest";
import WebSocket from "ws";
import { baseUrl, request } from "../support/e2e/client";
import { uniqueEmail } from "../support/fresh";

/**
 * Clients that go away without saying so (issue 22, item 13): a request whose client hangs up
 * mid-way, and a mesh node whose process dies without a close frame. Neither may leave hanging
 * work behind (wrangler dev would print `Promise will never complete.`) or a held socket slot.
 */

const HANGING = "Promise will never complete";

/** How many times wrangler dev's output (the Worker's console included) says `HANGING` so far. */
function hangingLines(): number {
  return readFileSync(inject("logFile"), "utf8").split(HANGING).length - 1;
}

/** Waits until wrangler dev's output has not grown for `quietMs` (at most `timeoutMs`): the work has settled. */
async function logSettled(quietMs = 3000, timeoutMs = 45_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let size = -1;
  let since = Date.now();
  while (Date.now() < deadline) {
    const now = readFileSync(inject("logFile")).length;
    if (now !== size) [size, since] = [now, Date.now()];
    else if (Date.now() - since >= quietMs) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe("a client that hangs up mid-request", () => {
  it("30 concurrent wrong-password logins aborted after 0.3 s leave no hanging promise, and metrics still flush", async () => {
    const email = uniqueEmail("hangup");
    expect((await request("POST", "/api/auth/register", { body: { email, password: "correct horse battery staple" } })).status).toBe(201);
    const before = hangingLines();

    const outcomes = await Promise.all(
      Array.from({ length: 30 }, async () => {
        try {
          await request("POST", "/api/auth/login", {
            body: { email, password: "not the password at all" },
            signal: AbortSignal.timeout(300),
          });
          return "answered";
        } catch {
          return "aborted";
        }
      }),
    );
    expect(outcomes).toContain("aborted"); // the test really hung up on some of them
    await logSettled();

    expect(hangingLines() - before).toBe(0);
    // Every flush settled: a scrape (which flushes this isolate first) still answers.
    const scrape = await request("GET", "/metrics", { token: inject("metricsToken"), signal: AbortSignal.timeout(10_000) });
    expect(scrape.status).toBe(200);
    expect(scrape.text).toMatch(/heady_logins_total\{result="failed"\} \d+/);
  });
});

let adminToken: string;

beforeAll(async () => {
  const login = await request("POST", "/api/auth/login", { body: inject("bootstrapAdmin") });
  expect(login.status).toBe(200);
  adminToken = login.body.accessToken;
});

/** MESH_MAX_SOCKETS_PER_NODE of wrangler.toml's development vars, which this wrangler dev runs with. */
const CAP = 8;

function meshUrl(topic: string): string {
  return `${baseUrl().replace(/^http/, "ws")}/ws/mesh/${topic}`;
}

/** Connects once; resolves with the first frame's type and `of` (the connect ack), or the close code. */
function tryConnect(topic: string, token: string): Promise<{ socket: WebSocket; outcome: string }> {
  return new Promise((resolve) => {
    const socket = new WebSocket(meshUrl(topic), ["pulse.v1", `bearer.${token}`]);
    socket.once("message", (data) => {
      const frame = JSON.parse(data.toString());
      resolve({ socket, outcome: `${frame.type}:${frame.of ?? frame.code}` });
    });
    socket.once("close", (code) => resolve({ socket, outcome: `close:${code}` }));
    socket.once("error", () => resolve({ socket, outcome: "error" }));
  });
}

/**
 * A `ws` client in a child process holding `CAP` sockets of one node; resolves once all are
 * connected (acknowledged), with the process, so the test can kill it without any close frame.
 */
function nodeProcess(topic: string, token: string) {
  const script = `
    const WebSocket = require("ws");
    let acked = 0;
    for (let i = 0; i < ${CAP}; i++) {
      const socket = new WebSocket(process.env.MESH_URL, ["pulse.v1", "bearer." + process.env.NODE_TOKEN]);
      socket.once("message", () => { if (++acked === ${CAP}) process.stdout.write("connected\\n"); });
      socket.once("close", (code) => process.stdout.write("closed " + code + "\\n"));
    }
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ["-e", script], {
    cwd: process.cwd(),
    env: { ...process.env, MESH_URL: meshUrl(topic), NODE_TOKEN: token },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const connected = new Promise<void>((resolve, reject) => {
    let output = "";
    child.stdout.on("data", (chunk) => {
      output += String(chunk);
      if (output.includes("connected")) resolve();
      if (output.includes("closed")) reject(new Error(`the node process lost a socket: ${output}`));
    });
    child.once("exit", (code) => reject(new Error(`the node process exited (${code}): ${output}`)));
  });
  return { child, connected };
}

describe("a mesh node that vanishes without a close frame", () => {
  it("gets its socket slots back: after SIGKILL the node connects up to its cap again within 15 s", async () => {
    const nodeId = `vanishing-${crypto.randomUUID().slice(0, 8)}`;
    const issued = await request("POST", "/api/sage/token", { token: adminToken, body: { node_id: nodeId, role: "reasoner" } });
    expect(issued.status).toBe(200);
    const token: string = issued.body.token;
    const topic = `reasoner.vanish${crypto.randomUUID().slice(0, 8)}`;

    const { child, connected } = nodeProcess(topic, token);
    await connected;
    // The cap really is held: one more socket is refused 1013.
    const over = await tryConnect(topic, token);
    expect(over.outcome).toBe("close:1013");

    child.kill("SIGKILL");
    await new Promise((resolve) => child.once("exit", resolve));
    const killedAt = Date.now();

    // The same node reconnects all CAP sockets, retrying refused ones, within a bounded time.
    const sockets: WebSocket[] = [];
    while (sockets.length < CAP && Date.now() - killedAt < 15_000) {
      const attempt = await tryConnect(topic, token);
      if (attempt.outcome === "ack:connect") sockets.push(attempt.socket);
      else await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const tookMs = Date.now() - killedAt;
    for (const socket of sockets) socket.close();
    expect(sockets).toHaveLength(CAP);
    expect(tookMs).toBeLessThan(15_000);
  });
});
