import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";

// Runs before every test file; applying is idempotent, so files that share storage are safe.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
