// `npm run dev`: first-run setup, then `wrangler dev`.
// 1. writes .dev.vars with fresh random secrets if it is missing, or adds any secret it lacks;
// 2. applies the D1 migrations to the local database;
// 3. with --dev-idp (once; it is remembered in .dev.vars), configures the `dev` sign-in provider, and
//    whenever .dev.vars has it, starts its local oidc-provider on 127.0.0.1 (scripts/dev/dev-idp.ts);
// 4. starts user memory's local Postgres (PGlite with pgvector, scripts/dev/memory-db.ts) on a free
//    loopback port, persisted under .wrangler/state/memory-pglite, and points MEMORY_DB at it;
// 5. starts wrangler dev and says where everything is.
import { type SpawnSyncOptions, spawn, spawnSync } from "node:child_process";
import { startDevIdp } from "./dev-idp.ts";
import { addMissingDevVars, devIdpVars, ensureDevVars, readDevVars } from "./dev-vars.ts";
import { LOCAL_CONNECTION_STRING_VARIABLE, startMemoryDb } from "./memory-db.ts";

const PORT = process.env.PORT ?? "8787";
const wrangler = (args: string[], options: SpawnSyncOptions = {}) =>
  spawnSync("npx", ["wrangler", ...args], { stdio: "inherit", ...options });

const wantsDevIdp = process.argv.includes("--dev-idp");
const wranglerArgs = process.argv.slice(2).filter((arg) => arg !== "--dev-idp");
const added = ensureDevVars(".dev.vars");
if (wantsDevIdp) added.push(...addMissingDevVars(".dev.vars", devIdpVars(PORT)));
if (added.length > 0) console.log(`.dev.vars: wrote fresh random values for ${added.join(", ")} (git-ignored).`);

const migrate = wrangler(["d1", "migrations", "apply", "DB", "--local"], { env: { ...process.env, CI: "1" } });
if (migrate.status !== 0) process.exit(migrate.status ?? 1);

const vars = readDevVars(".dev.vars");
const adminEmail = vars.BOOTSTRAP_ADMIN_EMAIL;
const base = `http://localhost:${PORT}`;
let devIdpLine = `Sign-in page  ${base}/sign-in   (npm run dev -- --dev-idp adds a local OIDC provider to click through)`;
const devIssuer = vars.OAUTH_DEV_ISSUER ? new URL(vars.OAUTH_DEV_ISSUER) : undefined;
if (devIssuer && devIssuer.hostname === "127.0.0.1") {
  await startDevIdp({
    port: Number(devIssuer.port),
    clientId: vars.OAUTH_DEV_CLIENT_ID ?? "",
    clientSecret: vars.OAUTH_DEV_CLIENT_SECRET ?? "",
    redirectUri: `${vars.PUBLIC_URL ?? base}/api/provider/callback/dev`,
  });
  devIdpLine = `Sign-in page  ${base}/sign-in   ("Continue with Local dev IdP": any login and password, at ${devIssuer.origin})`;
}
const memoryDb = await startMemoryDb({ dataDir: ".wrangler/state/memory-pglite" });
console.log(`
HeadyKey Edge is starting:
  API          ${base}/api/auth/…
  Docs         ${base}/docs   (OpenAPI 3.1 at ${base}/openapi.json)
  Health       ${base}/health
  ${devIdpLine}
  User memory  PGlite with pgvector at 127.0.0.1:${memoryDb.port} (data in .wrangler/state/memory-pglite)
  First admin  sign in as ${adminEmail ?? "(BOOTSTRAP_ADMIN_EMAIL)"} with BOOTSTRAP_ADMIN_PASSWORD from .dev.vars
`);

const dev = spawn("npx", ["wrangler", "dev", "--port", PORT, ...wranglerArgs], {
  stdio: "inherit",
  env: { ...process.env, [LOCAL_CONNECTION_STRING_VARIABLE]: memoryDb.connectionString },
});
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => dev.kill(signal));
dev.on("exit", async (code) => {
  await memoryDb.close();
  process.exit(code ?? 0);
});
