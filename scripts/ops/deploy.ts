// Deploys one environment: `npm run deploy:staging`, `npm run deploy:production` (add `-- --dry-run`
// to build and check the configuration without uploading or touching the remote database).
// Refuses when wrangler.toml's environment sections are out of date, or when the environment would
// run as a local run or without a real mail transport (deploymentProblems), then applies the remote
// D1 migrations and deploys, so a deployment never runs code ahead of its schema.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { unstable_readConfig } from "wrangler";
import { ENVIRONMENTS, withEnvironments } from "./wrangler-environments.ts";

/** The ENVIRONMENT values of a local run, as src/platform/local-run.ts has them (test/e2e/environments.test.ts keeps the two equal). */
export const LOCAL_ENVIRONMENTS = ["local", "test"];

/** What deploymentProblems reads of a resolved wrangler configuration. */
export interface DeploymentConfig {
  vars?: Record<string, unknown>;
  send_email?: readonly { name: string }[];
}

/**
 * What makes a resolved wrangler configuration (`unstable_readConfig`) unfit to deploy: a local-run
 * ENVIRONMENT, which would allow the development-only switches, or no real mail transport, which
 * would leave reset links in the dev outbox or lose them (the Worker refuses to start either way).
 */
export function deploymentProblems(config: DeploymentConfig): string[] {
  const vars: Record<string, unknown> = config.vars ?? {};
  const problems: string[] = [];
  if (LOCAL_ENVIRONMENTS.includes(String(vars.ENVIRONMENT))) {
    problems.push(`ENVIRONMENT=${vars.ENVIRONMENT} is for local runs only; a deployment runs as development or production`);
  }
  const transport = vars.MAIL_TRANSPORT;
  if (transport !== "send_email" && transport !== "http") {
    problems.push(
      `MAIL_TRANSPORT is ${transport === undefined ? "not set" : `"${transport}"`}: a deployment sends mail with send_email or http`,
    );
  } else if (transport === "send_email" && !(config.send_email ?? []).some((binding) => binding.name === "EMAIL")) {
    problems.push("MAIL_TRANSPORT=send_email needs a [[send_email]] binding named EMAIL");
  }
  return problems;
}

function wrangler(...args: string[]): void {
  console.log(`> wrangler ${args.join(" ")}`);
  const result = spawnSync("npx", ["wrangler", ...args], { stdio: "inherit" });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [environment = "", ...rest] = process.argv.slice(2);
  if (!Object.hasOwn(ENVIRONMENTS, environment)) {
    console.error(`usage: npm run deploy:<${Object.keys(ENVIRONMENTS).join("|")}> [-- --dry-run]`);
    process.exit(2);
  }
  const dryRun = rest.includes("--dry-run");

  const path = fileURLToPath(new URL("../../wrangler.toml", import.meta.url));
  const config = readFileSync(path, "utf8");
  if (config !== withEnvironments(config)) {
    console.error("wrangler.toml's environments are out of date: run npm run environments");
    process.exit(1);
  }
  const problems = deploymentProblems(unstable_readConfig({ config: path, env: environment }));
  if (problems.length > 0) {
    console.error(`Not deploying ${environment}:\n${problems.map((problem) => `  - ${problem}`).join("\n")}\nSee README, "Environments".`);
    process.exit(1);
  }

  if (!dryRun) wrangler("d1", "migrations", "apply", "DB", "--remote", "--env", environment);
  wrangler("deploy", "--env", environment, ...rest);
}
