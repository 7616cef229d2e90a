// The gateway bench's origin: a tiny Node HTTP server on loopback, in its own process (so that
// it neither competes with autocannon's event loop nor hides in the Worker's CPU figures).
// Started by bench/run.mjs (`startOrigin`); prints `{"port":N}` on stdout once listening.
// Every answer is a small JSON body; it counts what it served and whether each request carried
// the gateway's X-Heady-Assertion, and answers those counts at `GET /__bench/stats`.
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";

const STATS_PATH = "/__bench/stats";

function serve() {
  const stats = { requests: 0, withAssertion: 0, withoutAssertion: 0, leakedCredentials: 0 };
  const body = Buffer.from('{"ok":true,"origin":"bench"}');
  const server = createServer((request, response) => {
    if (request.url === STATS_PATH) {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify(stats));
      return;
    }
    stats.requests++;
    if (request.headers["x-heady-assertion"]) stats.withAssertion++;
    else stats.withoutAssertion++;
    // The gateway strips credentials the origin does not need (forwardCredentials is off).
    if (request.headers.authorization || request.headers["x-api-key"] || request.headers["x-heady-pqc-token"]) stats.leakedCredentials++;
    request.resume();
    request.on("end", () => {
      response.writeHead(200, { "content-type": "application/json", "content-length": body.length });
      response.end(body);
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, "127.0.0.1", () => {
    process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
  });
  process.on("SIGTERM", () => server.close(() => process.exit(0)));
  // The parent went away without stopping us.
  process.on("disconnect", () => process.exit(0));
}

/** Starts the origin in a child process; resolves to `{ url, pid, stats(), stop() }`. */
export function startOrigin() {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), "--serve"], { stdio: ["ignore", "pipe", "inherit", "ipc"] });
  return new Promise((resolve, reject) => {
    let buffered = "";
    const onData = (chunk) => {
      buffered += chunk;
      const line = buffered.split("\n")[0];
      if (!buffered.includes("\n")) return;
      child.stdout.off("data", onData);
      const { port } = JSON.parse(line);
      const url = `http://127.0.0.1:${port}`;
      resolve({
        url,
        pid: child.pid,
        stats: async () => (await fetch(`${url}${STATS_PATH}`)).json(),
        stop: () =>
          new Promise((done) => {
            if (child.exitCode !== null) return done();
            child.once("exit", () => done());
            child.kill("SIGTERM");
          }),
      });
    };
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", onData);
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`the bench origin exited (${code}) before listening`)));
  });
}

if (process.argv.includes("--serve")) serve();
