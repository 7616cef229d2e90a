/**
 * The ENVIRONMENT values of a run on a developer's machine: `local` (`npm run dev` writes it into
 * .dev.vars) and `test` (the test launchers set it). Only such a run may use the development-only
 * switches: the mail outbox and `GET /api/dev/outbox`, the local PQC signer, stub mesh auth, the
 * `dev` sign-in provider and plain-http loopback providers. wrangler.toml never sets either value,
 * so every deployment (development, staging, production) refuses them all.
 */
export const LOCAL_ENVIRONMENTS = ["local", "test"] as const;

export function isLocalRun(environment: string): boolean {
  return (LOCAL_ENVIRONMENTS as readonly string[]).includes(environment);
}
