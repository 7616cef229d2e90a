import { generateKeyPairSync } from "node:crypto";
import { createServer } from "node:net";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
// @ts-expect-error: a plain .mjs module shared with `npm run dev`
import { startDevIdp } from "./scripts/dev-idp.mjs";
// @ts-expect-error: a plain .mjs module shared with `npm run dev`
import { startMemoryDb } from "./scripts/memory-db.mjs";
// @ts-expect-error: a plain .mjs module shared with scripts/build-worker.mjs
import { pageScriptsForVite } from "./scripts/page-scripts.mjs";
import { FAKE_IDP_CLIENT, type FakeIdp, startFakeIdp } from "./test/support/servers/fake-idp";
import { type FakeKms, startFakeKms } from "./test/support/servers/fake-kms";

/** Starts a server on first use and hands every later caller the same one. */
function once<T>(start: () => Promise<T>): () => Promise<T> {
  let started: Promise<T> | undefined;
  return () => {
    started ??= start();
    return started;
  };
}

/**
 * One fake KMS (Node, 127.0.0.1, random port) for the whole run. The pool calls the config function
 * once per worker it starts, so the server is started once and shared; tests isolate themselves with
 * their own credentials from its control path (see test/support/servers/fake-kms.ts).
 */
const fakeKms = once<FakeKms>(() => startFakeKms({ region: "us-east-1" }));
/** The loopback OIDC and GitHub-style servers of the provider sign-in tests (test/support/servers/fake-idp.ts), shared likewise. */
const fakeIdp = once<FakeIdp>(() => startFakeIdp());
/** A real oidc-provider (scripts/dev-idp.mjs) as the `dev` provider, shared likewise; it must not keep the run alive. */
const devIdp = once<{ issuer: string }>(() =>
  startDevIdp({ ...DEV_IDP_CLIENT, redirectUri: "https://id.heady.test/api/provider/callback/dev" }).then(
    (started: { issuer: string; unref(): void }) => {
      started.unref();
      return started;
    },
  ),
);

/** User memory: PGlite with pgvector on loopback, in memory (scripts/memory-db.mjs), shared likewise. */
const memoryDb = once<{ connectionString: string }>(() =>
  startMemoryDb().then((started: { connectionString: string; unref(): void }) => {
    started.unref();
    return started;
  }),
);

/** A loopback port nobody listens on (bound, then let go): where MEMORY_DB_DOWN points, to test a store that is down. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A loopback server that accepts connections and never answers (MEMORY_DB_SILENT): a store that hangs. */
const silentServer = once<number>(
  () =>
    new Promise((resolve, reject) => {
      const server = createServer((socket) => socket.unref());
      server.unref();
      server.on("error", reject);
      server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port));
    }),
);

/** A fresh SAGE RSA key per run (PKCS#8 DER, base64url), as the Worker's SAGE_PRIVATE_KEY secret expects. */
const sagePrivateKey = generateKeyPairSync("rsa", { modulusLength: 2048 })
  .privateKey.export({ type: "pkcs8", format: "der" })
  .toString("base64url");

/** The Worker's client at the real oidc-provider. */
const DEV_IDP_CLIENT = { clientId: "heady-workerd-tests", clientSecret: "heady-workerd-tests-secret-0123456789abcdef" };

/** Tests that run inside workerd, with the real D1, KV and Durable Object bindings of wrangler.toml. */
export default defineConfig({
  plugins: [
    pageScriptsForVite,
    cloudflareTest(async () => {
      const [kms, idp, oidcProvider, memory, downPort, silentPort] = await Promise.all([
        fakeKms(),
        fakeIdp(),
        devIdp(),
        memoryDb(),
        closedPort(),
        silentServer(),
      ]);
      return {
        // The source, not wrangler.toml's built bundle (scripts/build-worker.mjs), so tests need no build step.
        main: "./src/index.ts",
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          // Through Hyperdrive's local binding, as the Worker reaches Postgres in production.
          hyperdrives: {
            MEMORY_DB: memory.connectionString,
            MEMORY_DB_DOWN: `postgres://postgres:postgres@127.0.0.1:${downPort}/postgres`,
            MEMORY_DB_SILENT: `postgres://postgres:postgres@127.0.0.1:${silentPort}/postgres`,
          },
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
            METRICS_TOKEN: "dGVzdC1vbmx5LW1ldHJpY3MtYmVhcmVyLXNlY3JldC0zMg",
            SAGE_PRIVATE_KEY: sagePrivateKey,
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
            OAUTH_DEV_ISSUER: oidcProvider.issuer,
            OAUTH_DEV_CLIENT_ID: DEV_IDP_CLIENT.clientId,
            OAUTH_DEV_CLIENT_SECRET: DEV_IDP_CLIENT.clientSecret,
          },
        },
      };
    }),
  ],
  test: {
    include: ["test/http/**/*.test.ts", "test/durable-objects/**/*.test.ts", "test/jobs/**/*.test.ts", "test/unit/**/*.test.ts"],
    setupFiles: ["./test/support/apply-migrations.ts"],
  },
});
