import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { unstable_readConfig } from "wrangler";
import { deploymentProblems, LOCAL_ENVIRONMENTS } from "../../scripts/ops/deploy.ts";
import { ENVIRONMENTS, withEnvironments } from "../../scripts/ops/wrangler-environments.ts";
import { LOCAL_ENVIRONMENTS as WORKER_LOCAL_ENVIRONMENTS } from "../../src/platform/local-run";

/**
 * wrangler.toml's development, staging and production environments: each with its own KMS key alias,
 * D1, KV, issuer and allowed origins, and each deploy script checked by `wrangler deploy --dry-run` (built and validated, nothing uploaded).
 */

const NAMES = ["development", "staging", "production"] as const;
const resolved = Object.fromEntries(NAMES.map((name) => [name, unstable_readConfig({ config: "wrangler.toml", env: name })]));

describe("wrangler.toml environments", () => {
  it("are what scripts/ops/wrangler-environments.ts generates from the top level", () => {
    const text = readFileSync("wrangler.toml", "utf8");
    expect(withEnvironments(text)).toBe(text);
    expect(Object.keys(ENVIRONMENTS)).toEqual([...NAMES]);
  });

  it("each has its own KMS key alias, D1, KV, issuer and allowed origins", () => {
    for (const field of [
      (name: string) => resolved[name]!.vars.KMS_PQC_KEY_ID,
      (name: string) => resolved[name]!.vars.ISSUER,
      (name: string) => resolved[name]!.vars.ALLOWED_ORIGINS,
      (name: string) => resolved[name]!.d1_databases[0]!.database_id,
      (name: string) => resolved[name]!.d1_databases[0]!.database_name,
      (name: string) => resolved[name]!.kv_namespaces[0]!.id,
      (name: string) => resolved[name]!.name,
    ]) {
      expect(new Set(NAMES.map(field)).size).toBe(3);
    }
    expect(resolved.production!.vars).toMatchObject({
      ENVIRONMENT: "production",
      ISSUER: "https://id.heady.systems",
      KMS_PQC_KEY_ID: "alias/headykey-pqc-production",
    });
    expect(resolved.staging!.vars.ENVIRONMENT).toBe("production");
    expect(resolved.production!.analytics_engine_datasets).toEqual([expect.objectContaining({ binding: "ANALYTICS" })]);
    for (const name of NAMES) {
      expect(resolved[name]!.durable_objects.bindings.map((binding: { name: string }) => binding.name).sort()).toEqual([
        "AUDIT_TALLY",
        "LEDGER",
        "LIMITER",
        "MESH_TOPIC",
        "METRICS",
      ]);
    }
  });

  it("each is a deployment that sends its mail: no local-run ENVIRONMENT, MAIL_TRANSPORT=send_email with an EMAIL binding that sends from MAIL_FROM (issue 22)", () => {
    for (const name of NAMES) {
      const config = resolved[name]!;
      expect(deploymentProblems(config), name).toEqual([]);
      expect(LOCAL_ENVIRONMENTS).not.toContain(config.vars.ENVIRONMENT);
      expect(config.vars.MAIL_TRANSPORT).toBe("send_email");
      expect(config.send_email).toEqual([expect.objectContaining({ name: "EMAIL", allowed_sender_addresses: [config.vars.MAIL_FROM] })]);
    }
    // The top level is the local run's base: it names no transport, so npm run dev and the tests default to the outbox.
    expect(unstable_readConfig({ config: "wrangler.toml" }).vars.MAIL_TRANSPORT).toBeUndefined();
  });
});

describe("the deploy script's refusal (deploymentProblems)", () => {
  const production = resolved.production!;
  const withVars = (vars: Record<string, unknown>, sendEmail: unknown[] = production.send_email) => ({
    ...production,
    vars: { ...production.vars, ...vars },
    send_email: sendEmail,
  });

  it("knows the same local-run ENVIRONMENT values as the Worker", () => {
    expect(LOCAL_ENVIRONMENTS).toEqual([...WORKER_LOCAL_ENVIRONMENTS]);
  });

  it("refuses an environment without a real mail transport", () => {
    expect(deploymentProblems(withVars({ MAIL_TRANSPORT: undefined }, []))).toEqual([expect.stringContaining("MAIL_TRANSPORT is not set")]);
    expect(deploymentProblems(withVars({ MAIL_TRANSPORT: "outbox" }))).toEqual([expect.stringContaining('MAIL_TRANSPORT is "outbox"')]);
    expect(deploymentProblems(withVars({}, []))).toEqual(["MAIL_TRANSPORT=send_email needs a [[send_email]] binding named EMAIL"]);
    expect(deploymentProblems(withVars({}, [{ name: "NOTIFY" }]))).toEqual([
      "MAIL_TRANSPORT=send_email needs a [[send_email]] binding named EMAIL",
    ]);
    expect(deploymentProblems(withVars({ MAIL_TRANSPORT: "http", MAIL_API_URL: "https://mail.example/send" }, []))).toEqual([]);
  });

  it("refuses a local-run ENVIRONMENT", () => {
    for (const environment of LOCAL_ENVIRONMENTS) {
      expect(deploymentProblems(withVars({ ENVIRONMENT: environment }))).toEqual([
        expect.stringContaining(`ENVIRONMENT=${environment} is for local runs only`),
      ]);
    }
  });
});

describe("deploy scripts, with --dry-run", () => {
  for (const name of ["staging", "production"] as const) {
    it(`npm run deploy:${name} -- --dry-run builds and validates ${name}'s configuration`, { timeout: 120_000 }, () => {
      const outdir = mkdtempSync(join(tmpdir(), `headykey-dry-${name}-`));
      try {
        const run = spawnSync("npm", ["run", `deploy:${name}`, "--", "--dry-run", "--outdir", outdir], {
          encoding: "utf8",
          env: { ...process.env, CI: "1" },
        });
        const output = `${run.stdout}\n${run.stderr}`;
        expect(run.status, output).toBe(0);
        expect(output).toContain("--dry-run: exiting now.");
        expect(output).not.toContain("d1 migrations apply"); // a dry run never touches the remote database
        expect(output).toContain(`env.DB (headykey-${name})`);
        expect(output).toContain(`env.KMS_PQC_KEY_ID ("alias/headykey-pqc-${name}")`);
        expect(readFileSync(join(outdir, "worker.js"), "utf8").length).toBeGreaterThan(100_000);
      } finally {
        rmSync(outdir, { recursive: true, force: true });
      }
    });
  }
});
