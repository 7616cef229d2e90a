import { z } from "zod";
import { DEFAULT_REVOCATION_MAX_STALENESS_SECONDS } from "./credentials/revocable-state-cache";
import { type GatewayRoute, GatewayRoutesSchema, undefinedPqcRequirements } from "./gateway/routes-config";
import type { MailConfig } from "./mail/config";
import {
  FORBIDDEN_EMIT_ACTIONS,
  MESH_AUTH_MODES,
  MESH_DEFAULT_MAX_SOCKETS_PER_NODE,
  MESH_DEFAULT_RATE_LIMIT_PER_MINUTE,
  MESH_MAX_SOCKETS_PER_NODE_LIMIT,
  type MeshConfig,
  NO_ROLE_TOPICS,
  NODE_TOKEN_ALGORITHMS,
  NODE_TOKEN_DEFAULT_TTL_SECONDS,
  NODE_TOKEN_MAX_TTL_SECONDS,
  RATE_ACTIONS,
  rsaPrivateKeySecret,
} from "./mesh/config";
import { MeshRoleTopicsSchema } from "./mesh/permissions";
import { type SigningKeyEntry, SigningKeysSchema } from "./oauth/signing-key-config";
import { isLocalRun, LOCAL_ENVIRONMENTS } from "./platform/local-run";
import { PQC_KEY_OVERLAP_DEFAULT_SECONDS, PQC_KEY_OVERLAP_MARGIN_SECONDS, PQC_TOKEN_MAX_TTL_SECONDS } from "./pqc/lifetimes";
import { type PqcServices, PqcServicesSchema } from "./pqc/services";
import { loadProvidersConfig, type ProvidersConfig } from "./providers/config";
import { WIDGET_TOKEN_MAX_TTL_SECONDS } from "./widget/lifetime";

/**
 * The Worker's bindings. Those wrangler.toml declares come from `wrangler types`
 * (worker-configuration.d.ts; `npm run types` writes it and `npm run lint` fails when it is stale);
 * the secrets and the per-deployment vars no config file lists are the rest of `configSchema`'s
 * keys, and the provider variables are named by pattern (src/providers/config.ts).
 *
 * Durable Object namespaces are plain here: the module that owns each class types its own stub,
 * so this file imports no Durable Object and no import circle runs through it.
 */
export type Bindings = Omit<Env, DurableObjectBindingName | ObjectVarName> & {
  [Name in DurableObjectBindingName]: DurableObjectNamespace;
} & { [Name in ObjectVarName]?: string | object } & { [Name in Exclude<keyof z.input<typeof configSchema>, keyof Env>]?: string } & {
  [providerVariable: `OAUTH_${string}`]: string | undefined;
};

type DurableObjectBindingName = { [Name in keyof Env]-?: Env[Name] extends DurableObjectNamespace<infer _> ? Name : never }[keyof Env];

/** Object-valued vars: tables in wrangler.toml, JSON strings when set in the dashboard (see `jsonVar`). */
type ObjectVarName = "GATEWAY_ROUTES" | "PQC_SERVICES" | "MESH_ROLE_TOPICS";

/** A secret must carry at least 256 bits; shorter ones are refused rather than padded. */
const MIN_SECRET_BYTES = 32;

const base64url = /^[A-Za-z0-9_-]+$/;
const decodedLength = (value: string) => Math.floor((value.length * 3) / 4);

const secret = (name: string) =>
  z.string({ error: `${name} is not set` }).refine((value) => base64url.test(value) && decodedLength(value) >= MIN_SECRET_BYTES, {
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
    ENVIRONMENT: z.enum([...LOCAL_ENVIRONMENTS, "development", "production"]).default("production"),
    ISSUER: z.url({ error: "ISSUER must be a URL" }),
    ACCESS_TOKEN_AUDIENCE: z.string().min(1).default("heady-api"),
    ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(86_400).default(3600),
    // 0 is strict (a read on every use); the ceiling keeps it tighter than Better Auth's 300 s default.
    REVOCATION_MAX_STALENESS_SECONDS: z.coerce.number().int().min(0).max(300).default(DEFAULT_REVOCATION_MAX_STALENESS_SECONDS),
    // Widget tokens are short-lived bearer tokens held by a page script: an hour at most.
    WIDGET_SESSION_TTL_SECONDS: z.coerce
      .number()
      .int()
      .min(60)
      .max(WIDGET_TOKEN_MAX_TTL_SECONDS)
      .default(15 * 60),
    ALLOWED_ORIGINS: z
      .string()
      .default("")
      .transform((list) =>
        list
          .split(",")
          .map((entry) => entry.trim())
          .filter(Boolean),
      )
      .pipe(z.array(origin)),
    JWT_SECRET: secret("JWT_SECRET"),
    RECEIPT_SEED: seed("RECEIPT_SEED"),
    ASSERTION_SEED: seed("ASSERTION_SEED").optional(),
    METRICS_TOKEN: secret("METRICS_TOKEN").optional(),
    // The OAuth provider is on when its signing keys are set (docs/oauth.md).
    OIDC_SIGNING_KEYS: jsonVar(SigningKeysSchema).optional(),
    GATEWAY_ROUTES: jsonVar(GatewayRoutesSchema).default([]),
    BOOTSTRAP_ADMIN_EMAIL: z.email().optional(),
    BOOTSTRAP_ADMIN_PASSWORD: z.string().min(12).optional(),
    PQC_SIGNER: z.enum(["local", "kms"]).default("kms"),
    PQC_LOCAL_SEED: seed("PQC_LOCAL_SEED").optional(),
    PQC_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(PQC_TOKEN_MAX_TTL_SECONDS).default(PQC_TOKEN_MAX_TTL_SECONDS),
    PQC_KEY_OVERLAP_SECONDS: z.coerce
      .number()
      .int()
      .max(7 * 24 * 60 * 60)
      .default(PQC_KEY_OVERLAP_DEFAULT_SECONDS),
    PQC_SERVICES: jsonVar(PqcServicesSchema).default({}),
    AWS_REGION: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "AWS_REGION must look like us-east-1")
      .optional(),
    KMS_PQC_KEY_ID: z.string().min(1).optional(),
    KMS_ENDPOINT: z.url().optional(),
    AWS_ACCESS_KEY_ID: z.string().min(16).optional(),
    AWS_SECRET_ACCESS_KEY: z.string().min(16).optional(),
    PULSE_AUTH_MODE: z.enum(MESH_AUTH_MODES).default("token"),
    SAGE_TOKEN_ALG: z.enum(NODE_TOKEN_ALGORITHMS).default("RS256"),
    SAGE_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(NODE_TOKEN_MAX_TTL_SECONDS).default(NODE_TOKEN_DEFAULT_TTL_SECONDS),
    SAGE_PRIVATE_KEY: rsaPrivateKeySecret("SAGE_PRIVATE_KEY").optional(),
    MESH_ROLE_TOPICS: jsonVar(MeshRoleTopicsSchema).default(NO_ROLE_TOPICS),
    MESH_FORBIDDEN_EMIT: z.enum(FORBIDDEN_EMIT_ACTIONS).default("close"),
    MESH_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(MESH_DEFAULT_RATE_LIMIT_PER_MINUTE),
    MESH_RATE_ACTION: z.enum(RATE_ACTIONS).default("throttle"),
    MESH_MAX_SOCKETS_PER_NODE: z.coerce
      .number({ error: "MESH_MAX_SOCKETS_PER_NODE must be a whole number" })
      .int({ error: `MESH_MAX_SOCKETS_PER_NODE must be a whole number from 1 to ${MESH_MAX_SOCKETS_PER_NODE_LIMIT}` })
      .min(1, `MESH_MAX_SOCKETS_PER_NODE must be a whole number from 1 to ${MESH_MAX_SOCKETS_PER_NODE_LIMIT}`)
      .max(MESH_MAX_SOCKETS_PER_NODE_LIMIT, `MESH_MAX_SOCKETS_PER_NODE must be a whole number from 1 to ${MESH_MAX_SOCKETS_PER_NODE_LIMIT}`)
      .default(MESH_DEFAULT_MAX_SOCKETS_PER_NODE),
    MAIL_TRANSPORT: z.enum(["outbox", "send_email", "http"]).optional(),
    MAIL_FROM: z.email({ error: "MAIL_FROM must be an email address" }).optional(),
    MAIL_API_URL: z.url({ protocol: /^https$/, error: "MAIL_API_URL must be an https URL" }).optional(),
    MAIL_API_KEY: z.string().min(16).optional(),
    WEBAUTHN_RP_ID: z
      .string()
      .regex(/^[a-z0-9.-]+$/, "WEBAUTHN_RP_ID must be a host name such as id.example.com (no scheme, no port)")
      .optional(),
    WEBAUTHN_RP_NAME: z.string().min(1).max(64).default("HeadyKey"),
    WEBAUTHN_ORIGINS: z
      .string()
      .optional()
      .transform((list) =>
        list === undefined
          ? undefined
          : list
              .split(",")
              .map((entry) => entry.trim())
              .filter(Boolean),
      )
      .pipe(z.array(origin).optional()),
  })
  .refine((config) => !config.ALLOWED_ORIGINS.includes("*"), "ALLOWED_ORIGINS may not contain a wildcard")
  .refine(
    (config) => config.PULSE_AUTH_MODE !== "stub" || isLocalRun(config.ENVIRONMENT),
    "PULSE_AUTH_MODE=stub is for local runs only (ENVIRONMENT=local or test); a deployment needs token (or dual while migrating)",
  )
  .refine((config) => config.SAGE_TOKEN_ALG !== "RS256" || config.SAGE_PRIVATE_KEY, "SAGE_TOKEN_ALG=RS256 needs SAGE_PRIVATE_KEY")
  .refine((config) => config.PQC_SIGNER !== "local" || config.PQC_LOCAL_SEED, "PQC_SIGNER=local needs PQC_LOCAL_SEED")
  .refine(
    (config) => config.PQC_KEY_OVERLAP_SECONDS >= config.PQC_TOKEN_TTL_SECONDS + PQC_KEY_OVERLAP_MARGIN_SECONDS,
    `PQC_KEY_OVERLAP_SECONDS must be at least PQC_TOKEN_TTL_SECONDS + ${PQC_KEY_OVERLAP_MARGIN_SECONDS}, so tokens signed before a rotation verify until they expire`,
  )
  .refine((config) => config.GATEWAY_ROUTES.length === 0 || config.ASSERTION_SEED, "GATEWAY_ROUTES needs ASSERTION_SEED to sign assertions")
  .superRefine((config, ctx) => {
    for (const message of undefinedPqcRequirements(config.GATEWAY_ROUTES, config.PQC_SERVICES)) ctx.addIssue({ code: "custom", message });
  })
  .refine(
    // Without a real transport a deployment would keep reset links in the outbox (readable by anyone) or drop them.
    (config) => isLocalRun(config.ENVIRONMENT) || config.MAIL_TRANSPORT === "send_email" || config.MAIL_TRANSPORT === "http",
    "a deployment needs MAIL_TRANSPORT=send_email or http; the outbox is for local runs only (ENVIRONMENT=local or test)",
  )
  .refine(
    (config) => config.MAIL_TRANSPORT !== "http" || (config.MAIL_API_URL && config.MAIL_API_KEY),
    "MAIL_TRANSPORT=http needs MAIL_API_URL and MAIL_API_KEY",
  )
  .refine(
    (config) => config.MAIL_TRANSPORT === undefined || config.MAIL_TRANSPORT === "outbox" || config.MAIL_FROM,
    "MAIL_TRANSPORT=send_email or http needs MAIL_FROM",
  )
  .refine(
    (config) => config.PQC_SIGNER !== "local" || isLocalRun(config.ENVIRONMENT),
    "PQC_SIGNER=local is for local runs only (ENVIRONMENT=local or test); a deployment signs with KMS",
  )
  .refine(
    (config) =>
      config.PQC_SIGNER !== "kms" ||
      (config.AWS_REGION && config.KMS_PQC_KEY_ID && config.AWS_ACCESS_KEY_ID && config.AWS_SECRET_ACCESS_KEY),
    "PQC_SIGNER=kms needs AWS_REGION, KMS_PQC_KEY_ID, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
  );

/** Validated, typed configuration derived once from the bindings. */
export interface Config {
  environment: z.infer<typeof configSchema>["ENVIRONMENT"];
  issuer: string;
  accessTokenAudience: string;
  accessTokenTtlSeconds: number;
  /** How long a session's or API key's state may be served from an isolate's cache; 0 means strict. */
  revocationMaxStalenessSeconds: number;
  allowedOrigins: ReadonlySet<string>;
  /** Lifetime of a widget token (`POST /api/session/start`). */
  widgetSessionTtlSeconds: number;
  jwtSecret: string;
  /** Ed25519 seed that signs trust receipts. */
  receiptSeed: string;
  gateway: {
    /** Longest prefix first. */
    routes: GatewayRoute[];
    /** Ed25519 seed that signs `X-Heady-Assertion`; present whenever there are routes. */
    assertionSeed?: string | undefined;
  };
  bootstrapAdmin?: { email: string; password: string };
  pqc: {
    tokenTtlSeconds: number;
    /** How long a rotated-out key still verifies after the new key is first seen (seconds). */
    keyOverlapSeconds: number;
    services: PqcServices;
    signer:
      | { kind: "local"; seed: string }
      | { kind: "kms"; region: string; keyId: string; accessKeyId: string; secretAccessKey: string; endpoint?: string | undefined };
  };
  mesh: MeshConfig;
  /** Sign-in with OAuth/OIDC providers: the enabled ones, the public URL, the redirect allowlist. */
  providers: ProvidersConfig;
  /** Passkeys: the relying party and the exact origins a ceremony may come from. */
  webauthn: { rpId: string; rpName: string; origins: string[] };
  /** Outgoing mail; a local run defaults to the D1 dev outbox, a deployment must name a real transport. */
  mail: MailConfig;
  /** "Sign in with HeadyKey": undefined while `OIDC_SIGNING_KEYS` is not set, and then every `/oauth/*` route answers 404. */
  oauth?: { signingKeys: readonly SigningKeyEntry[] } | undefined;
  /** The bearer secret that may read `/metrics`; undefined: admins only. */
  metricsToken?: string | undefined;
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
  const providers = loadProvidersConfig(
    env as unknown as Record<string, unknown>,
    value.ENVIRONMENT,
    value.ISSUER,
    new Set(value.ALLOWED_ORIGINS),
  );
  if (providers.problems.length > 0) throw new ConfigError(providers.problems.join("; "));
  const webauthn = {
    rpId: value.WEBAUTHN_RP_ID ?? new URL(providers.config.publicUrl).hostname,
    rpName: value.WEBAUTHN_RP_NAME,
    origins: value.WEBAUTHN_ORIGINS ?? [providers.config.publicUrl],
  };
  // A browser refuses a ceremony whose RP ID is not the page's host or a parent domain of it.
  const foreign = webauthn.origins.filter((entry) => {
    const host = new URL(entry).hostname;
    return host !== webauthn.rpId && !host.endsWith(`.${webauthn.rpId}`);
  });
  if (foreign.length > 0)
    throw new ConfigError(`WEBAUTHN_ORIGINS: ${foreign.join(", ")} is not on WEBAUTHN_RP_ID ${webauthn.rpId} or a subdomain of it`);
  const config: Config = {
    environment: value.ENVIRONMENT,
    issuer: value.ISSUER,
    accessTokenAudience: value.ACCESS_TOKEN_AUDIENCE,
    accessTokenTtlSeconds: value.ACCESS_TOKEN_TTL_SECONDS,
    revocationMaxStalenessSeconds: value.REVOCATION_MAX_STALENESS_SECONDS,
    allowedOrigins: new Set(value.ALLOWED_ORIGINS),
    widgetSessionTtlSeconds: value.WIDGET_SESSION_TTL_SECONDS,
    jwtSecret: value.JWT_SECRET,
    receiptSeed: value.RECEIPT_SEED,
    gateway: { routes: value.GATEWAY_ROUTES, assertionSeed: value.ASSERTION_SEED },
    bootstrapAdmin:
      value.BOOTSTRAP_ADMIN_EMAIL && value.BOOTSTRAP_ADMIN_PASSWORD
        ? { email: value.BOOTSTRAP_ADMIN_EMAIL.toLowerCase(), password: value.BOOTSTRAP_ADMIN_PASSWORD }
        : undefined,
    pqc: {
      tokenTtlSeconds: value.PQC_TOKEN_TTL_SECONDS,
      keyOverlapSeconds: value.PQC_KEY_OVERLAP_SECONDS,
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
    mesh: {
      authMode: value.PULSE_AUTH_MODE,
      tokenAlgorithm: value.SAGE_TOKEN_ALG,
      tokenTtlSeconds: value.SAGE_TOKEN_TTL_SECONDS,
      nodeTokenPrivateKey: value.SAGE_PRIVATE_KEY,
      roleTopics: value.MESH_ROLE_TOPICS,
      forbiddenEmit: value.MESH_FORBIDDEN_EMIT,
      rateLimitPerMinute: value.MESH_RATE_LIMIT_PER_MINUTE,
      rateAction: value.MESH_RATE_ACTION,
      maxSocketsPerNode: value.MESH_MAX_SOCKETS_PER_NODE,
    },
    providers: providers.config,
    webauthn,
    mail: {
      transport: value.MAIL_TRANSPORT ?? "outbox",
      from: value.MAIL_FROM ?? `no-reply@${new URL(value.ISSUER).hostname}`,
      apiUrl: value.MAIL_API_URL,
      apiKey: value.MAIL_API_KEY,
    },
    oauth: value.OIDC_SIGNING_KEYS ? { signingKeys: value.OIDC_SIGNING_KEYS } : undefined,
    metricsToken: value.METRICS_TOKEN,
  };
  parsed.set(env, config);
  return config;
}
