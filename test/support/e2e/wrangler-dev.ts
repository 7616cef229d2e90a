import { randomBytes } from "node:crypto";
import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { startDevIdp } from "../../../scripts/dev/dev-idp.ts";
import { freshDevVars, writeDevVars } from "../../../scripts/dev/dev-vars.ts";
import { LOCAL_CONNECTION_STRING_VARIABLE, startMemoryDb } from "../../../scripts/dev/memory-db.ts";
import { gatewayRoutesFor } from "./gateway-origin";
import { freePort, launchWranglerDev } from "./wrangler-process";

declare module "vitest" {
  export interface ProvidedContext {
    baseUrl: string;
    bootstrapAdmin: { email: string; password: string };
    /** Everything wrangler dev printed, including the Worker's console output. */
    logFile: string;
    /** The dev signer's ML-DSA-65 seed (base64url), so tests can sign as the Worker would. */
    pqcSeed: string;
    /** Where test/e2e/gateway.test.ts serves its origin (`http://127.0.0.1:<port>`); the gateway routes point there. */
    gatewayOrigin: string;
    /** wrangler dev's --persist-to folder, so a test can write its D1 as another isolate would. */
    stateDir: string;
    /** REVOCATION_MAX_STALENESS_SECONDS of this wrangler dev. */
    revocationBoundSeconds: number;
    /** PQC_TOKEN_TTL_SECONDS of this wrangler dev. */
    pqcTokenTtlSeconds: number;
    /** The METRICS_TOKEN of this wrangler dev, for scraping /metrics. */
    metricsToken: string;
    /** The local oidc-provider (scripts/dev/dev-idp.ts) the Worker's `dev` provider points at. */
    devIdpIssuer: string;
  }
}

/** Starts `wrangler dev` on a free port with its own state directory and fresh secrets. */
export default async function startWranglerDev(project: TestProject) {
  const stateDir = mkdtempSync(join(tmpdir(), "headykey-e2e-"));
  const envFile = join(stateDir, "e2e.vars");
  // A revocation bound of 5 s instead of the default 30, so that test/e2e/revocation.test.ts can wait it out;
  // PQC tokens live the shortest allowed 60 s, so that test/e2e/pqc-client.test.ts sees renewal and expiry.
  const vars = freshDevVars({
    BOOTSTRAP_ADMIN_EMAIL: "root@e2e-heady.test",
    ENVIRONMENT: "test",
    REVOCATION_MAX_STALENESS_SECONDS: "5",
    PQC_TOKEN_TTL_SECONDS: "60",
  });
  writeDevVars(envFile, vars);
  const gatewayOrigin = `http://127.0.0.1:${await freePort()}`;
  // Single quotes: wrangler's .env parser keeps such a value verbatim (it does not unescape \" in double quotes).
  appendFileSync(envFile, `GATEWAY_ROUTES='${JSON.stringify(gatewayRoutesFor(gatewayOrigin))}'\n`);

  // Provider sign-in: the Worker's `dev` provider against a real oidc-provider on loopback. Browsers
  // reach the Worker as localhost (a secure context, so its __Host- cookies work over http).
  const port = await freePort();
  const publicUrl = `http://localhost:${port}`;
  const devClient = { clientId: "heady-e2e", clientSecret: randomBytes(32).toString("base64url") };
  const devIdp = await startDevIdp({ ...devClient, redirectUri: `${publicUrl}/api/provider/callback/dev` });
  appendFileSync(
    envFile,
    [
      `PUBLIC_URL=${publicUrl}`,
      `OAUTH_DEV_ISSUER=${devIdp.issuer}`,
      `OAUTH_DEV_CLIENT_ID=${devClient.clientId}`,
      `OAUTH_DEV_CLIENT_SECRET=${devClient.clientSecret}`,
      "",
    ].join("\n"),
  );

  // User memory: PGlite with pgvector on loopback, in memory, behind wrangler dev's local MEMORY_DB Hyperdrive.
  const memoryDb: { connectionString: string; close(): Promise<void> } = await startMemoryDb();

  let running;
  try {
    running = await launchWranglerDev({ port, stateDir, envFile, env: { [LOCAL_CONNECTION_STRING_VARIABLE]: memoryDb.connectionString } });
  } catch (error) {
    await devIdp.close();
    await memoryDb.close();
    rmSync(stateDir, { recursive: true, force: true });
    throw error;
  }
  const { baseUrl, logFile, stop } = running;
  project.provide("baseUrl", baseUrl);
  project.provide("logFile", logFile);
  project.provide("pqcSeed", vars.PQC_LOCAL_SEED);
  project.provide("gatewayOrigin", gatewayOrigin);
  project.provide("stateDir", stateDir);
  project.provide("revocationBoundSeconds", Number(vars.REVOCATION_MAX_STALENESS_SECONDS));
  project.provide("devIdpIssuer", devIdp.issuer);
  project.provide("metricsToken", vars.METRICS_TOKEN);
  project.provide("pqcTokenTtlSeconds", Number(vars.PQC_TOKEN_TTL_SECONDS));
  project.provide("bootstrapAdmin", { email: vars.BOOTSTRAP_ADMIN_EMAIL, password: vars.BOOTSTRAP_ADMIN_PASSWORD });
  return stopWranglerDev;

  async function stopWranglerDev() {
    await stop();
    await devIdp.close();
    await memoryDb.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
}
