// Deploys one environment: `npm run deploy:staging`, `npm run deploy:production` (add `-- --dry-run`
// to build and check the configuration without uploading or touching the remote database).
// Refuses when wrangler.toml's environment sections are out of date, then applies the remote D1
// migrations and deploys, so a deployment never runs code ahead of its schema.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ENVIRONMENTS, withEnvironments } from "./wrangler-environments.mjs";

const [environment, ...rest] = process.argv.slice(2);
if (!Object.hasOwn(ENVIRONMENTS, environment ?? "")) {
  console.error(`usage: node scripts/deploy.mjs <${Object.keys(ENVIRONMENTS).join("|")}> [--dry-run]`);
  process.exit(2);
}
const dryRun = rest.includes("--dry-run");

const config = readFileSync(fileURLToPath(new URL("../wrangler.toml", import.meta.url)), "utf8");
if (config !== withEnvironments(config)) {
  console.error("wrangler.toml's environments are out of date: run node scripts/wrangler-environments.mjs");
  process.exit(1);
}

function wrangler(...args) {
  console.log(`> wrangler ${args.join(" ")}`);
  const result = spawnSync("npx", ["wrangler", ...args], { stdio: "inherit" });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

if (!dryRun) wrangler("d1", "migrations", "apply", "DB", "--remote", "--env", environment);
wrangler("deploy", "--env", environment, ...rest);
