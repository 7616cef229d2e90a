import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createWriteStream } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitForHealth(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited early (${child.exitCode}):\n${log()}`);
    try {
      const response = await fetch(`${url}/health`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`wrangler dev did not become healthy:\n${log()}`);
}

export interface RunningWrangler {
  baseUrl: string;
  /** Everything wrangler dev printed, including the Worker's console output. */
  logFile: string;
  stop(): Promise<void>;
}

/**
 * Applies the migrations to `stateDir` and starts `wrangler dev` there with the vars in `envFile`,
 * on `port`; resolves once `/health` answers. The e2e global setup runs the shared instance with
 * it, and a test that needs other vars (a KMS signer, say) runs its own.
 */
export async function launchWranglerDev(options: {
  port: number;
  stateDir: string;
  envFile: string;
  /** More environment for wrangler itself (not the Worker's vars), such as a local Hyperdrive connection string. */
  env?: Record<string, string>;
}): Promise<RunningWrangler> {
  const { port, stateDir, envFile } = options;
  const migrate = spawnSync("npx", ["wrangler", "d1", "migrations", "apply", "DB", "--local", "--persist-to", stateDir], {
    encoding: "utf8",
    env: { ...process.env, CI: "1" },
  });
  if (migrate.status !== 0) throw new Error(`migrations failed:\n${migrate.stdout}\n${migrate.stderr}`);

  const output: string[] = [];
  const child = spawn(
    "npx",
    [
      "wrangler",
      "dev",
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--inspector-port",
      String(await freePort()),
      "--persist-to",
      stateDir,
      "--env-file",
      envFile,
      "--show-interactive-dev-session=false",
      "--log-level",
      "info",
    ],
    { env: { ...process.env, CI: "1", ...options.env }, detached: true },
  );
  const logFile = join(stateDir, "wrangler-dev.log");
  const log = createWriteStream(logFile);
  for (const stream of [child.stdout, child.stderr]) {
    stream?.on("data", (chunk) => {
      output.push(String(chunk));
      log.write(chunk);
    });
  }

  async function stop(): Promise<void> {
    if (child.pid) {
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        // already gone
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }

  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await waitForHealth(baseUrl, child, () => output.join("").slice(-4000));
  } catch (error) {
    await stop();
    throw error;
  }
  return { baseUrl, logFile, stop };
}
