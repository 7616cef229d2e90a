// `npm run dev`: first-run setup, then `wrangler dev`.
// 1. writes .dev.vars with fresh random secrets if it is missing, or adds any secret it lacks;
// 2. applies the D1 migrations to the local database;
// 3. starts wrangler dev and says where everything is.
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { ensureDevVars } from "./dev-vars.mjs";

const PORT = process.env.PORT ?? "8787";
const wrangler = (args, options = {}) => spawnSync("npx", ["wrangler", ...args], { stdio: "inherit", ...options });

const added = ensureDevVars(".dev.vars");
if (added.length > 0) console.log(`.dev.vars: wrote fresh random values for ${added.join(", ")} (git-ignored).`);

const migrate = wrangler(["d1", "migrations", "apply", "DB", "--local"], { env: { ...process.env, CI: "1" } });
if (migrate.status !== 0) process.exit(migrate.status ?? 1);

const adminEmail = /^BOOTSTRAP_ADMIN_EMAIL="?([^"\n]*)"?$/m.exec(readFileSync(".dev.vars", "utf8"))?.[1];
const base = `http://localhost:${PORT}`;
console.log(`
HeadyKey Edge is starting:
  API          ${base}/api/auth/…
  Docs         ${base}/docs   (OpenAPI 3.1 at ${base}/openapi.json)
  Health       ${base}/health
  First admin  sign in as ${adminEmail ?? "(BOOTSTRAP_ADMIN_EMAIL)"} with BOOTSTRAP_ADMIN_PASSWORD from .dev.vars
`);

const dev = spawn("npx", ["wrangler", "dev", "--port", PORT, ...process.argv.slice(2)], { stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => dev.kill(signal));
dev.on("exit", (code) => process.exit(code ?? 0));
