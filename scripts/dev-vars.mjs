// Writes a .dev.vars-style file with fresh random secrets. Shared by `npm run dev` (which
// keeps an existing .dev.vars) and the end-to-end tests (which write their own per run).
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";

const secret = (bytes = 32) => randomBytes(bytes).toString("base64url");

/** Fresh values for every secret the Worker needs, plus a bootstrap admin pair. */
export function freshDevVars(overrides = {}) {
  return {
    JWT_SECRET: secret(),
    BOOTSTRAP_ADMIN_EMAIL: "admin@heady.local",
    BOOTSTRAP_ADMIN_PASSWORD: secret(18),
    // Dev signs PQC tokens with a local ML-DSA-65 seed instead of AWS KMS.
    PQC_SIGNER: "local",
    PQC_LOCAL_SEED: secret(32),
    ...overrides,
  };
}

export function writeDevVars(path, vars) {
  const lines = Object.entries(vars).map(([key, value]) => `${key}=${JSON.stringify(String(value))}`);
  writeFileSync(path, `# Generated ${new Date().toISOString()} with fresh random secrets. Never commit this file.\n${lines.join("\n")}\n`, {
    mode: 0o600,
  });
}
