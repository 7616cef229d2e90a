import { defineConfig } from "vitest/config";

/** Node-side end-to-end tests: real clients against a `wrangler dev` that the global setup starts and stops. */
export default defineConfig({
  test: {
    include: ["test/e2e/**/*.test.ts"],
    globalSetup: ["./test/support/e2e/wrangler-dev.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // One wrangler dev serves every file; files run one after another so rate limits stay predictable.
    fileParallelism: false,
  },
});
