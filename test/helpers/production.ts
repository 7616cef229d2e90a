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
