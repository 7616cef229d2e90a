import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

/** Tests that run inside workerd, with the real D1, KV and Durable Object bindings of wrangler.toml. */
export default defineConfig({
  plugins: [
    cloudflareTest(async () => ({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          ENVIRONMENT: "test",
          ISSUER: "https://id.heady.test",
          ALLOWED_ORIGINS: "https://app.heady.test,https://admin.heady.test",
          // Fixed, test-only secrets (32 random bytes, base64url): never used outside the test runtime.
          JWT_SECRET: "dGVzdC1vbmx5LWp3dC1zZWNyZXQtMzItYnl0ZXMtbG9uZyEh",
          BOOTSTRAP_ADMIN_EMAIL: "root@heady.test",
          BOOTSTRAP_ADMIN_PASSWORD: "bootstrap-admin-password-for-tests",
          PQC_SIGNER: "local",
          PQC_LOCAL_SEED: "dGVzdC1vbmx5LW1sLWRzYS02NS1zZWVkLTMyLWJ5dGU",
          TEST_MIGRATIONS: await readD1Migrations("./migrations"),
        },
      },
    })),
  ],
  test: {
    include: ["test/routes/**/*.test.ts", "test/unit/**/*.test.ts"],
    setupFiles: ["./test/helpers/apply-migrations.ts"],
  },
});
