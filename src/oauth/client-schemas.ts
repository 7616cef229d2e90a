import { z } from "@hono/zod-openapi";
import { redirectUriProblem } from "./redirect-uris";

/** What the provider implements; discovery advertises exactly these (src/oauth/discovery.ts). */
export const GRANT_TYPES = ["authorization_code", "refresh_token", "client_credentials"] as const;
export const TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"] as const;
export const SIGNING_ALGORITHMS = ["RS256", "ES256", "EdDSA"] as const;
export type OAuthSigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];
/** The OIDC scopes with a meaning here; a client may also be allowed API scopes of its resource servers. */
export const STANDARD_SCOPES = ["openid", "profile", "email", "offline_access"] as const;

/** RFC 6749 §3.3 scope-token, narrowed to what a person can read on the consent page. */
const SCOPE_TOKEN = /^[a-z][a-z0-9:._-]{0,63}$/;
const MAX_LIST = 20;

const redirectUri = z
  .string()
  .max(2000)
  .superRefine((value, ctx) => {
    const problem = redirectUriProblem(value);
    if (problem) ctx.addIssue({ code: "custom", message: `redirect URI ${problem}` });
  });

/** RFC 8707 §2: a resource is an absolute URI without a fragment. */
const resourceUri = z
  .string()
  .max(2000)
  .refine((value) => {
    try {
      return new URL(value).hash === "" && !value.includes("#");
    } catch {
      return false;
    }
  }, "an audience must be an absolute URI without a fragment");

const lifetime = (min: number, max: number) => z.number().int().min(min).max(max);

/** The private_key_jwt keys: public JWKs only (a `d` member would be a private key sent to us). */
const PublicJwks = z.object({
  keys: z
    .array(
      z
        .record(z.string(), z.unknown())
        .refine((jwk) => !("d" in jwk), "a client JWK must be a public key")
        // The assertion's header names its key by kid (src/oauth/client-assertion.ts).
        .refine((jwk) => typeof jwk.kid === "string" && jwk.kid.length > 0, "a client JWK needs a kid"),
    )
    .min(1)
    .max(10),
});

const clientFields = {
  name: z.string().trim().min(1).max(100),
  logoUri: z
    .url({ protocol: /^https$/ })
    .max(2000)
    .nullable(),
  redirectUris: z.array(redirectUri).max(MAX_LIST),
  postLogoutRedirectUris: z.array(redirectUri).max(MAX_LIST),
  grantTypes: z.array(z.enum(GRANT_TYPES)).min(1),
  scopes: z.array(z.string().regex(SCOPE_TOKEN)).max(MAX_LIST),
  audiences: z.array(resourceUri).max(MAX_LIST),
  tokenEndpointAuthMethod: z.enum(TOKEN_ENDPOINT_AUTH_METHODS),
  jwks: PublicJwks.nullable(),
  jwksUri: z
    .url({ protocol: /^https$/ })
    .max(2000)
    .nullable(),
  idTokenSignedResponseAlg: z.enum(SIGNING_ALGORITHMS),
  accessTokenSignedResponseAlg: z.enum(SIGNING_ALGORITHMS),
  accessTokenTtlSeconds: lifetime(60, 3600),
  idTokenTtlSeconds: lifetime(60, 3600),
  refreshTokenTtlSeconds: lifetime(3600, 90 * 86_400),
  firstParty: z.boolean(),
};

const ClientFields = z.object(clientFields);
export type OAuthClientFields = z.infer<typeof ClientFields>;

/** What a client registered with only a name gets: a confidential web app with the OIDC scopes, RS256, 10-minute tokens. */
export const CLIENT_DEFAULTS: Omit<OAuthClientFields, "name"> = {
  logoUri: null,
  redirectUris: [],
  postLogoutRedirectUris: [],
  grantTypes: ["authorization_code", "refresh_token"],
  scopes: ["openid", "profile", "email", "offline_access"],
  audiences: [],
  tokenEndpointAuthMethod: "client_secret_basic",
  jwks: null,
  jwksUri: null,
  idTokenSignedResponseAlg: "RS256",
  accessTokenSignedResponseAlg: "RS256",
  accessTokenTtlSeconds: 600,
  idTokenTtlSeconds: 600,
  refreshTokenTtlSeconds: 30 * 86_400,
  firstParty: false,
};

/** The rules that span fields; checked on create and on the merged result of an update. */
export function clientFieldProblems(client: OAuthClientFields): string[] {
  const problems: string[] = [];
  const grants = new Set(client.grantTypes);
  if (grants.has("authorization_code") && client.redirectUris.length === 0) problems.push("authorization_code needs a redirect URI");
  if (grants.has("refresh_token") && !grants.has("authorization_code")) problems.push("refresh_token needs authorization_code");
  if (client.tokenEndpointAuthMethod === "none" && grants.has("client_credentials")) {
    problems.push("a public client (token endpoint auth method none) cannot use client_credentials");
  }
  const hasKeys = client.jwks !== null || client.jwksUri !== null;
  if (client.tokenEndpointAuthMethod === "private_key_jwt" && !hasKeys) problems.push("private_key_jwt needs jwks or jwksUri");
  if (client.jwks !== null && client.jwksUri !== null) problems.push("give jwks or jwksUri, not both");
  return problems;
}

/** Every field but `name` is optional on create (CLIENT_DEFAULTS fills it) and on update (the stored value stays). */
export const CreateOAuthClientBody = ClientFields.partial().required({ name: true }).openapi("CreateOAuthClientBody");
export const UpdateOAuthClientBody = ClientFields.partial().openapi("UpdateOAuthClientBody");

/** How long a rotated-out secret keeps working when the rotation names no overlap: a day. */
export const DEFAULT_SECRET_OVERLAP_SECONDS = 86_400;

export const RotateSecretBody = z
  .object({
    overlapSeconds: z
      .number()
      .int()
      .min(0)
      .max(30 * 86_400)
      .default(DEFAULT_SECRET_OVERLAP_SECONDS)
      .openapi({ description: "How long the previous secret keeps working (default one day)" }),
  })
  .openapi("RotateSecretBody");

export const OAuthClient = ClientFields.extend({
  clientId: z.string(),
  hasSecret: z.boolean(),
  previousSecretExpiresAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
}).openapi("OAuthClient");

export const OAuthClientWithSecret = OAuthClient.extend({
  clientSecret: z.string().nullable().openapi({ description: "Shown once; only its SHA-256 is stored" }),
}).openapi("OAuthClientWithSecret");

export const OAuthClientList = z.object({ clients: z.array(OAuthClient) }).openapi("OAuthClientList");

export const ClientIdParam = z.object({
  id: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/)
    .openapi({ param: { name: "id", in: "path" } }),
});
