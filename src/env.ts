import { z } from "zod";
import { PqcServicesSchema, type PqcServices } from "./pqc/services";

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
  PQC_SIGNER?: string;
  PQC_LOCAL_SEED?: string;
  PQC_TOKEN_TTL_SECONDS?: string;
  PQC_SERVICES?: string | Record<string, unknown>;
  AWS_REGION?: string;
  KMS_PQC_KEY_ID?: string;
  KMS_ENDPOINT?: string;
  AWS_ACCESS_KEY_ID?: string;
  AWS_SECRET_ACCESS_KEY?: string;
}

/** A secret must carry at least 256 bits; shorter ones are refused rather than padded. */
const MIN_SECRET_BYTES = 32;

const base64url = /^[A-Za-z0-9_-]+$/;
const decodedLength = (value: string) => Math.floor((value.length * 3) / 4);

const secret = (name: string) =>
  z
    .string({ error: `${name} is not set` })
    .refine((value) => base64url.test(value) && decodedLength(value) >= MIN_SECRET_BYTES, {
      message: `${name} must be at least ${MIN_SECRET_BYTES} random bytes, base64url-encoded`,
    });

/** A seed is exactly 32 bytes (ML-DSA's ξ, Ed25519's private key). */
const seed = (name: string) =>
  z
    .string({ error: `${name} is not set` })
    .refine((value) => base64url.test(value) && value.length === 43, `${name} must be exactly 32 bytes, base64url-encoded`);

/** Object-valued vars arrive as objects from wrangler.toml tables, or as JSON strings from the dashboard. */
const jsonVar = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => {
    if (typeof value !== "string") return value;
    try {
      return JSON.parse(value);
    } catch {
      return value;
    }
  }, schema);

/** At most 300 s: PQC tokens are for single high-security operations. */
export const PQC_TOKEN_MAX_TTL_SECONDS = 300;

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
    PQC_SIGNER: z.enum(["local", "kms"]).default("kms"),
    PQC_LOCAL_SEED: seed("PQC_LOCAL_SEED").optional(),
    PQC_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(PQC_TOKEN_MAX_TTL_SECONDS).default(PQC_TOKEN_MAX_TTL_SECONDS),
    PQC_SERVICES: jsonVar(PqcServicesSchema).default({}),
    AWS_REGION: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "AWS_REGION must look like us-east-1").optional(),
    KMS_PQC_KEY_ID: z.string().min(1).optional(),
    KMS_ENDPOINT: z.url().optional(),
    AWS_ACCESS_KEY_ID: z.string().min(16).optional(),
    AWS_SECRET_ACCESS_KEY: z.string().min(16).optional(),
  })
  .refine((config) => !config.ALLOWED_ORIGINS.includes("*"), "ALLOWED_ORIGINS may not contain a wildcard")
  .refine((config) => config.PQC_SIGNER !== "local" || config.PQC_LOCAL_SEED, "PQC_SIGNER=local needs PQC_LOCAL_SEED")
  .refine(
    (config) => config.PQC_SIGNER !== "local" || config.ENVIRONMENT !== "production",
    "PQC_SIGNER=local is for development; production signs with KMS",
  )
  .refine(
    (config) =>
      config.PQC_SIGNER !== "kms" ||
      (config.AWS_REGION && config.KMS_PQC_KEY_ID && config.AWS_ACCESS_KEY_ID && config.AWS_SECRET_ACCESS_KEY),
    "PQC_SIGNER=kms needs AWS_REGION, KMS_PQC_KEY_ID, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
  );

/** Validated, typed configuration derived once from the bindings. */
export interface Config {
  environment: "development" | "test" | "production";
  issuer: string;
  accessTokenAudience: string;
  accessTokenTtlSeconds: number;
  allowedOrigins: ReadonlySet<string>;
  jwtSecret: string;
  bootstrapAdmin?: { email: string; password: string };
  pqc: {
    tokenTtlSeconds: number;
    services: PqcServices;
    signer:
      | { kind: "local"; seed: string }
      | { kind: "kms"; region: string; keyId: string; accessKeyId: string; secretAccessKey: string; endpoint?: string | undefined };
  };
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
    pqc: {
      tokenTtlSeconds: value.PQC_TOKEN_TTL_SECONDS,
      services: value.PQC_SERVICES,
      signer:
        value.PQC_SIGNER === "local"
          ? { kind: "local", seed: value.PQC_LOCAL_SEED! }
          : {
              kind: "kms",
              region: value.AWS_REGION!,
              keyId: value.KMS_PQC_KEY_ID!,
              accessKeyId: value.AWS_ACCESS_KEY_ID!,
              secretAccessKey: value.AWS_SECRET_ACCESS_KEY!,
              endpoint: value.KMS_ENDPOINT,
            },
    },
  };
  parsed.set(env, config);
  return config;
}
