import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type Bindings, loadConfig } from "../../src/env";
import { configError, PRODUCTION_VARS, type Vars } from "../support/config";

/**
 * Issue 22: every development-only switch needs an explicit local run (ENVIRONMENT=local or test,
 * set only by `npm run dev` and the test launchers). A deployment, development and staging included,
 * refuses each of them, so none of them can reach a deployed Worker by way of wrangler.toml.
 */

/** Each development-only switch, as the test bindings (a local run) carry it, and what refuses it. */
const SWITCHES: Record<string, { vars: Vars; refusal: string }> = {
  "no mail transport": {
    vars: { MAIL_TRANSPORT: undefined, MAIL_FROM: undefined },
    refusal: "a deployment needs MAIL_TRANSPORT=send_email or http",
  },
  "the mail outbox": { vars: { MAIL_TRANSPORT: "outbox" }, refusal: "a deployment needs MAIL_TRANSPORT=send_email or http" },
  "the local PQC signer": {
    vars: { PQC_SIGNER: "local", PQC_LOCAL_SEED: env.PQC_LOCAL_SEED },
    refusal: "PQC_SIGNER=local is for local runs only",
  },
  "stub mesh auth": { vars: { PULSE_AUTH_MODE: "stub" }, refusal: "PULSE_AUTH_MODE=stub is for local runs only" },
  "the dev sign-in provider": {
    vars: {
      OAUTH_DEV_ISSUER: env.OAUTH_DEV_ISSUER,
      OAUTH_DEV_CLIENT_ID: env.OAUTH_DEV_CLIENT_ID,
      OAUTH_DEV_CLIENT_SECRET: env.OAUTH_DEV_CLIENT_SECRET,
    },
    refusal: "the dev provider is for local runs only",
  },
  "a plain-http loopback provider": {
    vars: {
      OAUTH_OIDC_ISSUER: env.OAUTH_OIDC_ISSUER,
      OAUTH_OIDC_CLIENT_ID: env.OAUTH_OIDC_CLIENT_ID,
      OAUTH_OIDC_CLIENT_SECRET: env.OAUTH_OIDC_CLIENT_SECRET,
    },
    refusal: "OAUTH_OIDC_ISSUER must use https outside a local run",
  },
};

// staging runs with ENVIRONMENT=production (scripts/ops/wrangler-environments.ts); unset means production too.
const DEPLOYMENTS = { development: "development", "staging and production": "production", "no ENVIRONMENT": undefined };

describe("development-only switches", () => {
  for (const [deployment, environment] of Object.entries(DEPLOYMENTS)) {
    describe(`in a deployment (${deployment})`, () => {
      const deployed = { ...PRODUCTION_VARS, ENVIRONMENT: environment };

      it("loads without any of them", () => {
        expect(loadConfig({ ...env, ...deployed } as Bindings).environment).toBe(environment ?? "production");
      });

      for (const [name, { vars, refusal }] of Object.entries(SWITCHES)) {
        it(`refuses ${name}`, () => {
          expect(configError({ ...deployed, ...vars })).toContain(refusal);
        });
      }
    });
  }

  for (const environment of ["local", "test"]) {
    it(`allows all of them in a local run (ENVIRONMENT=${environment})`, () => {
      const everything = Object.assign({ ENVIRONMENT: environment }, ...Object.values(SWITCHES).map((entry) => entry.vars));
      const config = loadConfig({ ...env, ...everything } as Bindings);
      expect(config.mail.transport).toBe("outbox");
      expect(config.pqc.signer.kind).toBe("local");
      expect(config.mesh.authMode).toBe("stub");
      expect([...config.providers.enabled.keys()]).toEqual(expect.arrayContaining(["dev", "oidc"]));
    });
  }

  it("knows no other ENVIRONMENT", () => {
    expect(configError({ ENVIRONMENT: "staging" })).not.toBe("");
    expect(configError({ ENVIRONMENT: "dev" })).not.toBe("");
  });
});
