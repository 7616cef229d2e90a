import { z } from "zod";

/** The Worker's bindings, exactly as wrangler.toml and the secrets declare them. */
export interface Bindings {
  DB: D1Database;
  CACHE: KVNamespace;
  LIMITER: DurableObjectNamespace<import("./durable-objects/rate-limiter").RateLimiter>;
  ENVIRONMENT?: string;
  ISSUER?: string;
  ACCESS_TOKEN_AUDIENCE?: string;
  ACCESS_TOKEN_TTL_SECONDS?: string;
  ALLOWED_ORIGINS?: string;
  PULSE_AUTH_MODE?: string;
  JWT_SECRET?: string;
  BOOTSTRAP_ADMIN_EMAIL?: string;
  BOOTSTRAP_ADMIN_PASSWORD?: string;
}

/** A secret must carry at least 256 bits; shorter ones are refused rather than padded. */
const MIN_SECRET_BYTES = 32;

const base64url = /^[A-Za-z0-9_-]+$/;

const secret = (name: string) =>
  z
    .string({ error: `${name} is not set` })
    .refine((value) => base64url.test(value) && Math.floor((value.length * 3) / 4) >= MIN_SECRET_BYTES, {
      message: `${name} must be at least ${MIN_SECRET_BYTES} random bytes, base64url-encoded`,
    });

const origin = z.string().refine((value) => {
  try {
    const url = new URL(value);
    return url.origin === value;
  } catch {
    return false;
  }
}, "each ALLOWED_ORIGINS entry must be a bare origin such as https://app.example.com");

const configSchema = z
  .object({
    ENVIRONMENT: z.enum(["development", "test", "production"]).default("production"),
    ISSUER: z.url({ error: "ISSUER must be a URL" }),
    ACCESS_TOKEN_AUDIENCE: z.string().min(1).default("heady-api"),
    ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(86_400).default(3600),
    ALLOWED_ORIGINS: z
      .string()
      .default("")
      .transform((list) => list.split(",").map((entry) => entry.trim()).filter(Boolean))
      .pipe(z.array(origin)),
    JWT_SECRET: secret("JWT_SECRET"),
    BOOTSTRAP_ADMIN_EMAIL: z.email().optional(),
    BOOTSTRAP_ADMIN_PASSWORD: z.string().min(12).optional(),
  })
  .refine((config) => !config.ALLOWED_ORIGINS.includes("*"), "ALLOWED_ORIGINS may not contain a wildcard");

/** Validated, typed configuration derived once from the bindings. */
export interface Config {
  environment: "development" | "test" | "production";
  issuer: string;
  accessTokenAudience: string;
  accessTokenTtlSeconds: number;
  allowedOrigins: ReadonlySet<string>;
  jwtSecret: string;
  bootstrapAdmin?: { email: string; password: string };
}

/** Raised when the deployment itself is broken (a missing or weak secret, a bad var). */
export class ConfigError extends Error {
  override name = "ConfigError";
}

const parsed = new WeakMap<Bindings, Config>();

/**
 * Parses and checks the environment once per isolate and bindings object.
 * A missing or weak secret throws `ConfigError`; nothing is ever defaulted in its place.
 */
export function loadConfig(env: Bindings): Config {
  const cached = parsed.get(env);
  if (cached) return cached;
  const result = configSchema.safeParse(env);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((issue) => issue.message).join("; "));
  }
  const value = result.data;
  const config: Config = {
    environment: value.ENVIRONMENT,
    issuer: value.ISSUER,
    accessTokenAudience: value.ACCESS_TOKEN_AUDIENCE,
    accessTokenTtlSeconds: value.ACCESS_TOKEN_TTL_SECONDS,
    allowedOrigins: new Set(value.ALLOWED_ORIGINS),
    jwtSecret: value.JWT_SECRET,
    bootstrapAdmin:
      value.BOOTSTRAP_ADMIN_EMAIL && value.BOOTSTRAP_ADMIN_PASSWORD
        ? { email: value.BOOTSTRAP_ADMIN_EMAIL.toLowerCase(), password: value.BOOTSTRAP_ADMIN_PASSWORD }
        : undefined,
  };
  parsed.set(env, config);
  return config;
}
