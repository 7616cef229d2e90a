// Writes a .dev.vars-style file with fresh random secrets. Shared by `npm run dev` (which keeps
// an existing .dev.vars and only adds what is missing) and the end-to-end tests (which write their
// own per run).
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";

/** The variables of a .dev.vars-style file, by name. */
export type DevVars = Record<string, string>;

const secret = (bytes = 32) => randomBytes(bytes).toString("base64url");

/** A fresh 2048-bit RSA key for SAGE node tokens (RS256), PKCS#8 DER, base64url. */
const rsaPrivateKey = () =>
  generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "der" }).toString("base64url");

/** A fresh signing key for the OAuth/OIDC provider's `OIDC_SIGNING_KEYS` (PKCS#8 DER, base64url). */
export function oidcSigningKey(alg: "RS256" | "ES256" | "EdDSA", status: "next" | "active" | "retiring") {
  const { privateKey } =
    alg === "RS256"
      ? generateKeyPairSync("rsa", { modulusLength: 2048 })
      : alg === "ES256"
        ? generateKeyPairSync("ec", { namedCurve: "P-256" })
        : generateKeyPairSync("ed25519");
  return { alg, status, privateKey: privateKey.export({ type: "pkcs8", format: "der" }).toString("base64url") };
}

/** Fresh values for every secret the Worker needs, plus a bootstrap admin pair. */
export function freshDevVars<Overrides extends DevVars>(overrides = {} as Overrides) {
  return {
    // The local-run opt-in (src/platform/local-run.ts): only with it may the Worker use the mail outbox, the
    // local PQC signer and the other development-only switches. wrangler.toml never sets it.
    ENVIRONMENT: "local",
    JWT_SECRET: secret(),
    // Ed25519 seed for trust receipts (exactly 32 bytes).
    RECEIPT_SEED: secret(32),
    // Ed25519 seed for the gateway's X-Heady-Assertion (exactly 32 bytes).
    ASSERTION_SEED: secret(32),
    // The bearer secret Prometheus scrapes /metrics with.
    METRICS_TOKEN: secret(32),
    BOOTSTRAP_ADMIN_EMAIL: "admin@heady.local",
    BOOTSTRAP_ADMIN_PASSWORD: secret(18),
    // Dev signs PQC tokens with a local ML-DSA-65 seed instead of AWS KMS.
    PQC_SIGNER: "local",
    PQC_LOCAL_SEED: secret(32),
    // SAGE signs PulseMesh node tokens with this RSA key.
    SAGE_PRIVATE_KEY: rsaPrivateKey(),
    // "Sign in with HeadyKey" (docs/oauth.md): one active key per algorithm turns the provider on.
    OIDC_SIGNING_KEYS: JSON.stringify([
      oidcSigningKey("RS256", "active"),
      oidcSigningKey("ES256", "active"),
      oidcSigningKey("EdDSA", "active"),
    ]),
    ...overrides,
  };
}

/**
 * One `KEY=value` line. wrangler reads the file as dotenv, which unescapes only `\n` in a double-quoted
 * value: a value holding `"` (a JSON var) goes in single quotes, which dotenv takes literally.
 */
function devVarLine(key: string, value: string): string {
  return value.includes('"') && !value.includes("'") && !value.includes("\n") ? `${key}='${value}'` : `${key}=${JSON.stringify(value)}`;
}

export function writeDevVars(path: string, vars: DevVars): void {
  const lines = Object.entries(vars).map(([key, value]) => devVarLine(key, String(value)));
  writeFileSync(path, `# Generated ${new Date().toISOString()} with fresh random secrets. Never commit this file.\n${lines.join("\n")}\n`, {
    mode: 0o600,
  });
}

/** The variables of a .dev.vars-style file, unquoted. */
export function readDevVars(path: string): DevVars {
  if (!existsSync(path)) return {};
  const vars: DevVars = {};
  for (const [, key = "", raw = ""] of readFileSync(path, "utf8").matchAll(/^([A-Z0-9_]+)=(.*)$/gm)) {
    try {
      vars[key] = raw.startsWith('"') ? JSON.parse(raw) : raw.startsWith("'") && raw.endsWith("'") ? raw.slice(1, -1) : raw;
    } catch {
      vars[key] = raw;
    }
  }
  return vars;
}

/** Appends the variables the file lacks, keeping every existing value; returns the names it added. */
export function addMissingDevVars(path: string, vars: DevVars): string[] {
  const present = readDevVars(path);
  const missing = Object.entries(vars).filter(([key]) => !(key in present));
  if (missing.length > 0) {
    appendFileSync(
      path,
      `\n# Added ${new Date().toISOString()}\n${missing.map(([key, value]) => devVarLine(key, String(value))).join("\n")}\n`,
    );
  }
  return missing.map(([key]) => key);
}

/**
 * Creates the file, or adds fresh values for any variable it lacks (a secret introduced since it
 * was written), keeping every existing value. Returns the names it added.
 */
export function ensureDevVars(path: string): string[] {
  const fresh = freshDevVars();
  if (!existsSync(path)) {
    writeDevVars(path, fresh);
    return Object.keys(fresh);
  }
  return addMissingDevVars(path, fresh);
}

/** The variables of the `dev` sign-in provider, pointed at the local oidc-provider (scripts/dev/dev-idp.ts). */
export function devIdpVars(workerPort: string, idpPort = 9555): DevVars {
  return {
    PUBLIC_URL: `http://localhost:${workerPort}`,
    OAUTH_DEV_ISSUER: `http://127.0.0.1:${idpPort}`,
    OAUTH_DEV_CLIENT_ID: "heady-dev",
    OAUTH_DEV_CLIENT_SECRET: secret(),
  };
}
