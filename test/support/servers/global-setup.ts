import { createServer, type Server, type Socket } from "node:net";
import type { TestProject } from "vitest/node";
import { startDevIdp } from "../../../scripts/dev/dev-idp.ts";
import { startMemoryDb } from "../../../scripts/dev/memory-db.ts";
import { startFakeIdp } from "./fake-idp";
import { startFakeKms } from "./fake-kms";

/**
 * The loopback servers of the workerd tests (vitest.config.ts), started once for the whole run before
 * any test file and closed when it ends. Their addresses reach the Worker's bindings through
 * `provide` here and the `inject` that cloudflareTest's options callback is given.
 */

declare module "vitest" {
  export interface ProvidedContext {
    /** The fake KMS (./fake-kms.ts): its URL, key alias and the credentials every test runtime gets. */
    fakeKms: { url: string; alias: string; accessKeyId: string; secretAccessKey: string };
    /** The loopback OIDC and GitHub-style servers of the provider sign-in tests (./fake-idp.ts). */
    fakeIdp: { oidcIssuer: string; githubHost: string };
    /** A real oidc-provider (scripts/dev/dev-idp.ts) as the Worker's `dev` provider, for DEV_IDP_CLIENT. */
    devIdpIssuer: string;
    /** User memory's Postgres, as Hyperdrive connection strings: PGlite, a store that is down, and one that hangs. */
    memoryDb: { up: string; down: string; silent: string };
  }
}

/** The workerd tests' issuer: the ISSUER binding of vitest.config.ts. */
export const TEST_ISSUER = "https://id.heady.test";

/** The Worker's client at the real oidc-provider. */
export const DEV_IDP_CLIENT = { clientId: "heady-workerd-tests", clientSecret: "heady-workerd-tests-secret-0123456789abcdef" };

const postgresUrl = (port: number) => `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port));
  });
}

/** A loopback port nobody listens on (bound, then let go): where MEMORY_DB_DOWN points, to test a store that is down. */
async function closedPort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A loopback server that accepts connections and never answers (MEMORY_DB_SILENT): a store that hangs. */
async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  const port = await listen(server);
  return {
    port,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

export default async function startServers(project: TestProject) {
  const downPort = await closedPort();
  const starting = [
    startFakeKms({ region: "us-east-1" }),
    startFakeIdp(),
    startDevIdp({ ...DEV_IDP_CLIENT, redirectUri: `${TEST_ISSUER}/api/provider/callback/dev` }),
    startMemoryDb(),
    silentServer(),
  ] as const;
  // Every server that did start is closed again, also when another failed to.
  const settled = await Promise.allSettled(starting);
  const running = settled.flatMap((result) => (result.status === "fulfilled" ? [result.value as { close(): Promise<void> }] : []));
  const stopServers = async () => {
    await Promise.all(running.map((server) => server.close()));
  };
  const failed = settled.find((result): result is PromiseRejectedResult => result.status === "rejected");
  if (failed) {
    await stopServers();
    throw failed.reason;
  }
  const [kms, idp, devIdp, memoryDb, silent] = await Promise.all(starting);
  project.provide("fakeKms", { url: kms.url, alias: kms.alias, accessKeyId: kms.accessKeyId, secretAccessKey: kms.secretAccessKey });
  project.provide("fakeIdp", { oidcIssuer: idp.oidcIssuer, githubHost: idp.githubHost });
  project.provide("devIdpIssuer", devIdp.issuer);
  project.provide("memoryDb", { up: memoryDb.connectionString, down: postgresUrl(downPort), silent: postgresUrl(silent.port) });
  return stopServers;
}
