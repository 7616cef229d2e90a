import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { unstable_readConfig } from "wrangler";
// @ts-expect-error: a plain .mjs script
import { ENVIRONMENTS, withEnvironments } from "../../scripts/wrangler-environments.mjs";

/**
 * wrangler.toml's development, staging and production environments: each with its own KMS key alias,
 * D1, KV, issuer and allowed origins, and each deploy script checked by `wrangler deploy --dry-run` (built and validated, nothing uploaded).
 */

const NAMES = ["development", "staging", "production"] as const;
const resolved = Object.fromEntries(NAMES.map((name) => [name, unstable_readConfig({ config: "wrangler.toml", env: name })]));

describe("wrangler.toml environments", () => {
  it("are what scripts/wrangler-environments.mjs generates from the top level", () => {
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
    expect(resolved.production!.vars).toMatchObject({ ENVIRONMENT: "production", ISSUER: "https://id.heady.systems", KMS_PQC_KEY_ID: "alias/headykey-pqc-production" });
    expect(resolved.staging!.vars.ENVIRONMENT).toBe("production");
    expect(resolved.production!.analytics_engine_datasets).toEqual([expect.objectContaining({ binding: "ANALYTICS" })]);
    for (const name of NAMES) {
      expect(resolved[name]!.durable_objects.bindings.map((binding: { name: string }) => binding.name).sort()).toEqual(["AUDIT_TALLY", "LEDGER", "LIMITER", "MESH_TOPIC", "METRICS"]);
    }
  });
});

describe("deploy scripts, with --dry-run", () => {
  for (const name of ["staging", "production"] as const) {
    it(`npm run deploy:${name} -- --dry-run builds and validates ${name}'s configuration`, { timeout: 120_000 }, () => {
      const outdir = mkdtempSync(join(tmpdir(), `headykey-dry-${name}-`));
      try {
        const run = spawnSync("npm", ["run", `deploy:${name}`, "--", "--dry-run", "--outdir", outdir], { encoding: "utf8", env: { ...process.env, CI: "1" } });
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
