import { env } from "cloudflare:workers";
import { type Bindings, type Config, ConfigError, loadConfig } from "../../src/env";

/** The validated test configuration, exactly as the Worker sees it. */
export function testConfig(): Config {
  return loadConfig(env);
}

/** Requests go to the issuer's origin (TEST_ISSUER, https://id.heady.test), as real clients would. */
export const BASE_URL = new URL(testConfig().issuer).origin;
/** The two entries of ALLOWED_ORIGINS in vitest.config.ts. */
export const [ALLOWED_ORIGIN, OTHER_ALLOWED_ORIGIN] = [...testConfig().allowedOrigins] as [string, string];

export type Vars = Partial<Record<keyof Bindings, unknown>>;

/** The test bindings with `vars` changed (undefined unsets one). */
export const withVars = (vars: Vars) => ({ ...env, ...vars }) as Bindings;

/** The message loadConfig refuses the test bindings with `vars` changed with; fails the test when they load. */
export function configError(vars: Vars): string {
  try {
    loadConfig(withVars(vars));
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error("the config loaded");
}

/**
 * The variables that turn the test bindings into a production configuration: KMS signing (never the
 * local seed), a real mail transport (never the outbox), and none of the loopback or dev sign-in
 * providers, which every deployment refuses.
 */
export const PRODUCTION_VARS: Record<string, string | undefined> = {
  ENVIRONMENT: "production",
  MAIL_TRANSPORT: "send_email",
  MAIL_FROM: "no-reply@heady.systems",
  PQC_SIGNER: "kms",
  AWS_REGION: "us-east-1",
  KMS_PQC_KEY_ID: "alias/headykey-pqc",
  AWS_ACCESS_KEY_ID: "AKIAEXAMPLEEXAMPLE00",
  AWS_SECRET_ACCESS_KEY: "example-secret-access-key-0000000000",
  OAUTH_OIDC_ISSUER: undefined,
  OAUTH_OIDC_CLIENT_ID: undefined,
  OAUTH_OIDC_CLIENT_SECRET: undefined,
  OAUTH_GITHUB_HOST: undefined,
  OAUTH_GITHUB_CLIENT_ID: undefined,
  OAUTH_GITHUB_CLIENT_SECRET: undefined,
  OAUTH_DEV_ISSUER: undefined,
  OAUTH_DEV_CLIENT_ID: undefined,
  OAUTH_DEV_CLIENT_SECRET: undefined,
};
