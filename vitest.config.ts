import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { generateKeyPairSync } from "node:crypto";
import { defineConfig } from "vitest/config";
import { startFakeKms, type FakeKms } from "./test/kms/fake-kms";

/**
 * One fake KMS (Node, 127.0.0.1, random port) for the whole run. The pool calls the config function
 * once per worker it starts, so the server is started once and shared; tests isolate themselves with
 * their own credentials from its control path (see test/kms/fake-kms.ts).
 */
let fakeKms: Promise<FakeKms> | undefined;

/** A fresh SAGE RSA key per run (PKCS#8 DER, base64url), as the Worker's SAGE_PRIVATE_KEY secret expects. */
const sagePrivateKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "der" }).toString("base64url");

/** Tests that run inside workerd, with the real D1, KV and Durable Object bindings of wrangler.toml. */
export default defineConfig({
  plugins: [
    cloudflareTest(async () => {
      fakeKms ??= startFakeKms({ region: "us-east-1" });
      const kms = await fakeKms;
      return {
        // The source, not wrangler.toml's built bundle (scripts/build-worker.mjs), so tests need no build step.
        main: "./src/index.ts",
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
            RECEIPT_SEED: "dGVzdC1vbmx5LWVkMjU1MTktcmVjZWlwdC1zZWVkLTI",
            ASSERTION_SEED: "dGVzdC1vbmx5LWdhdGV3YXktYXNzZXJ0aW9uLXNlZWQ",
            SAGE_PRIVATE_KEY: sagePrivateKey,
            // Strict (a D1 read on every use), so tests that revoke by writing D1 see it at once; the
            // bounded cache is tested with its own bounds (test/routes/revocation-staleness.test.ts)
            // and end to end through wrangler dev, which runs the default of 30 s.
            REVOCATION_MAX_STALENESS_SECONDS: "0",
            TEST_MIGRATIONS: await readD1Migrations("./migrations"),
            TEST_KMS_ENDPOINT: kms.url,
            TEST_KMS_KEY_ID: kms.alias,
            TEST_KMS_ACCESS_KEY_ID: kms.accessKeyId,
            TEST_KMS_SECRET_ACCESS_KEY: kms.secretAccessKey,
          },
        },
      };
    }),
  ],
  test: {
    include: ["test/routes/**/*.test.ts", "test/unit/**/*.test.ts"],
    setupFiles: ["./test/helpers/apply-migrations.ts"],
  },
});
