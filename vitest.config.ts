import { generateKeyPairSync } from "node:crypto";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { pageScriptsForVite } from "./scripts/build/page-scripts.ts";
import { oidcSigningKey } from "./scripts/dev/dev-vars.ts";
import { FAKE_IDP_CLIENT } from "./test/support/servers/fake-idp-client";
import { DEV_IDP_CLIENT, TEST_ISSUER } from "./test/support/servers/global-setup";

/** A fresh SAGE RSA key per run (PKCS#8 DER, base64url), as the Worker's SAGE_PRIVATE_KEY secret expects. */
const sagePrivateKey = generateKeyPairSync("rsa", { modulusLength: 2048 })
  .privateKey.export({ type: "pkcs8", format: "der" })
  .toString("base64url");

/**
 * The OAuth provider's signing keys for this run (OIDC_SIGNING_KEYS: PKCS#8 DER, base64url): one
 * active key per algorithm, plus an RS256 key announced as `next` and an ES256 key `retiring`, so
 * the tests see every status of a rotation published.
 */
const oidcSigningKeys = JSON.stringify([
  oidcSigningKey("RS256", "active"),
  oidcSigningKey("RS256", "next"),
  oidcSigningKey("ES256", "active"),
  oidcSigningKey("ES256", "retiring"),
  oidcSigningKey("EdDSA", "active"),
]);

/** Tests that run inside workerd, with the real D1, KV and Durable Object bindings of wrangler.toml. */
export default defineConfig({
  plugins: [
    pageScriptsForVite,
    // The loopback servers come from the global setup (test/support/servers/global-setup.ts), which starts
    // them once per run and closes them at its end; the pool calls this for each worker it starts.
    cloudflareTest(async ({ inject }) => {
      const [kms, idp, memoryDb] = [inject("fakeKms"), inject("fakeIdp"), inject("memoryDb")];
      return {
        // The source, not wrangler.toml's built bundle (scripts/build/build-worker.ts), so tests need no build step.
        main: "./src/index.ts",
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          // Through Hyperdrive's local binding, as the Worker reaches Postgres in production.
          hyperdrives: {
            MEMORY_DB: memoryDb.up,
            MEMORY_DB_DOWN: memoryDb.down,
            MEMORY_DB_SILENT: memoryDb.silent,
          },
          bindings: {
            ENVIRONMENT: "test",
            ISSUER: TEST_ISSUER,
            ALLOWED_ORIGINS: "https://app.heady.test,https://admin.heady.test",
            // Fixed, test-only secrets (32 random bytes, base64url): never used outside the test runtime.
            JWT_SECRET: "dGVzdC1vbmx5LWp3dC1zZWNyZXQtMzItYnl0ZXMtbG9uZyEh",
            BOOTSTRAP_ADMIN_EMAIL: "root@heady.test",
            BOOTSTRAP_ADMIN_PASSWORD: "bootstrap-admin-password-for-tests",
            PQC_SIGNER: "local",
            PQC_LOCAL_SEED: "dGVzdC1vbmx5LW1sLWRzYS02NS1zZWVkLTMyLWJ5dGU",
            RECEIPT_SEED: "dGVzdC1vbmx5LWVkMjU1MTktcmVjZWlwdC1zZWVkLTI",
            ASSERTION_SEED: "dGVzdC1vbmx5LWdhdGV3YXktYXNzZXJ0aW9uLXNlZWQ",
            METRICS_TOKEN: "dGVzdC1vbmx5LW1ldHJpY3MtYmVhcmVyLXNlY3JldC0zMg",
            SAGE_PRIVATE_KEY: sagePrivateKey,
            OIDC_SIGNING_KEYS: oidcSigningKeys,
            // Strict (a D1 read on every use), so tests that revoke by writing D1 see it at once; the
            // bounded cache is tested with its own bounds (test/http/revocation-staleness.test.ts)
            // and end to end through wrangler dev, which runs the default of 30 s.
            REVOCATION_MAX_STALENESS_SECONDS: "0",
            TEST_MIGRATIONS: await readD1Migrations("./migrations"),
            TEST_KMS_ENDPOINT: kms.url,
            TEST_KMS_KEY_ID: kms.alias,
            TEST_KMS_ACCESS_KEY_ID: kms.accessKeyId,
            TEST_KMS_SECRET_ACCESS_KEY: kms.secretAccessKey,
            // Provider sign-in: the generic OIDC provider and GitHub (as Enterprise Server) on loopback.
            PROVIDER_REDIRECT_URLS: "https://app.heady.test/signed-in",
            OAUTH_OIDC_ISSUER: idp.oidcIssuer,
            OAUTH_OIDC_CLIENT_ID: FAKE_IDP_CLIENT.id,
            OAUTH_OIDC_CLIENT_SECRET: FAKE_IDP_CLIENT.secret,
            OAUTH_GITHUB_HOST: idp.githubHost,
            OAUTH_GITHUB_CLIENT_ID: FAKE_IDP_CLIENT.id,
            OAUTH_GITHUB_CLIENT_SECRET: FAKE_IDP_CLIENT.secret,
            // Apple only to start a flow (its endpoints are not reachable from here): the form_post branch.
            OAUTH_APPLE_CLIENT_ID: "systems.heady.test",
            OAUTH_APPLE_CLIENT_SECRET: "test-only-apple-client-secret-jwt",
            OAUTH_DEV_ISSUER: inject("devIdpIssuer"),
            OAUTH_DEV_CLIENT_ID: DEV_IDP_CLIENT.clientId,
            OAUTH_DEV_CLIENT_SECRET: DEV_IDP_CLIENT.clientSecret,
          },
        },
      };
    }),
  ],
  test: {
    include: ["test/http/**/*.test.ts", "test/durable-objects/**/*.test.ts", "test/jobs/**/*.test.ts", "test/unit/**/*.test.ts"],
    globalSetup: ["./test/support/servers/global-setup.ts"],
    setupFiles: ["./test/support/apply-migrations.ts"],
  },
});
