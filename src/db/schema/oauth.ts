import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { sessions, users } from "./identity";

/**
 * The apps that sign people in through HeadyKey ("Sign in with HeadyKey", docs/oauth.md). Only the
 * SHA-256 of a client secret is kept; a rotation keeps the previous hash valid until
 * `previous_secret_expires_at`, so a fleet can roll the new secret out without an outage.
 */
export const oauthClients = sqliteTable("oauth_clients", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  logoUri: text("logo_uri"),
  redirectUris: text("redirect_uris", { mode: "json" }).$type<string[]>().notNull(),
  postLogoutRedirectUris: text("post_logout_redirect_uris", { mode: "json" }).$type<string[]>().notNull(),
  grantTypes: text("grant_types", { mode: "json" }).$type<string[]>().notNull(),
  scopes: text("scopes", { mode: "json" }).$type<string[]>().notNull(),
  /** RFC 8707 resources the client may ask tokens for; the first is the default audience. */
  audiences: text("audiences", { mode: "json" }).$type<string[]>().notNull(),
  tokenEndpointAuthMethod: text("token_endpoint_auth_method").notNull(),
  /** For `private_key_jwt`: the client's public keys, inline (a JWK Set) or by URL. */
  jwks: text("jwks", { mode: "json" }).$type<{ keys: Record<string, unknown>[] }>(),
  jwksUri: text("jwks_uri"),
  idTokenSignedResponseAlg: text("id_token_signed_response_alg").notNull(),
  accessTokenSignedResponseAlg: text("access_token_signed_response_alg").notNull(),
  accessTokenTtlSeconds: integer("access_token_ttl_seconds").notNull(),
  idTokenTtlSeconds: integer("id_token_ttl_seconds").notNull(),
  refreshTokenTtlSeconds: integer("refresh_token_ttl_seconds").notNull(),
  /** Trusted first-party apps skip the consent page. */
  firstParty: integer("first_party", { mode: "boolean" }).notNull().default(false),
  secretHash: text("secret_hash"),
  previousSecretHash: text("previous_secret_hash"),
  previousSecretExpiresAt: integer("previous_secret_expires_at"),
  createdBy: text("created_by").references(() => users.id, { onDelete: "set null" }),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

/**
 * An authorization code, by SHA-256 (60 s, single use). `used_at` is set by the one exchange; a
 * second exchange finds it set and revokes the refresh family the first one issued (`family_id`).
 */
export const oauthCodes = sqliteTable(
  "oauth_codes",
  {
    codeHash: text("code_hash").primaryKey(),
    clientId: text("client_id")
      .notNull()
      .references(() => oauthClients.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    sessionId: text("session_id")
      .notNull()
      .references(() => sessions.id, { onDelete: "cascade" }),
    redirectUri: text("redirect_uri").notNull(),
    scope: text("scope").notNull(),
    resource: text("resource").notNull(),
    nonce: text("nonce"),
    codeChallenge: text("code_challenge").notNull(),
    authTime: integer("auth_time").notNull(),
    amr: text("amr", { mode: "json" }).$type<string[]>().notNull(),
    /** The refresh family the exchange started, so a replay can end it. */
    familyId: text("family_id"),
    usedAt: integer("used_at"),
    expiresAt: integer("expires_at").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (table) => [index("oauth_codes_expires_idx").on(table.expiresAt)],
);

/** Refresh tokens of apps, by SHA-256; rotated like the first-party ones, a reuse revokes the family. */
export const oauthRefreshTokens = sqliteTable(
  "oauth_refresh_tokens",
  {
    id: text("id").primaryKey(),
    tokenHash: text("token_hash").notNull().unique(),
    familyId: text("family_id").notNull(),
    clientId: text("client_id")
      .notNull()
      .references(() => oauthClients.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    scope: text("scope").notNull(),
    resource: text("resource").notNull(),
    authTime: integer("auth_time").notNull(),
    amr: text("amr", { mode: "json" }).$type<string[]>().notNull(),
    replacedBy: text("replaced_by"),
    usedAt: integer("used_at"),
    revokedAt: integer("revoked_at"),
    /** The family's absolute end; rotation never extends it. */
    expiresAt: integer("expires_at").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (table) => [index("oauth_refresh_tokens_family_idx").on(table.familyId), index("oauth_refresh_tokens_user_idx").on(table.userId)],
);

/** A person's consent to one client for one scope set (space-separated, sorted). */
export const oauthConsents = sqliteTable(
  "oauth_consents",
  {
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    clientId: text("client_id")
      .notNull()
      .references(() => oauthClients.id, { onDelete: "cascade" }),
    scope: text("scope").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (table) => [primaryKey({ columns: [table.userId, table.clientId, table.scope] })],
);

/**
 * The single-use ticket a consent page posts back, by SHA-256: it binds the decision to the session
 * that saw the page and to the exact authorization request (`request`, the query string), 10 min.
 */
export const oauthConsentTickets = sqliteTable("oauth_consent_tickets", {
  ticketHash: text("ticket_hash").primaryKey(),
  sessionId: text("session_id")
    .notNull()
    .references(() => sessions.id, { onDelete: "cascade" }),
  clientId: text("client_id")
    .notNull()
    .references(() => oauthClients.id, { onDelete: "cascade" }),
  request: text("request").notNull(),
  expiresAt: integer("expires_at").notNull(),
});

/**
 * Every `private_key_jwt` assertion seen, until its `exp`, so each works once (RFC 7523 §3): keyed by
 * the SHA-256 of the client id and the `jti`, so one client's `jti` never collides with another's.
 */
export const oauthAssertionJtis = sqliteTable("oauth_assertion_jtis", {
  jtiHash: text("jti_hash").primaryKey(),
  expiresAt: integer("expires_at").notNull(),
});

export type OAuthClientRow = typeof oauthClients.$inferSelect;
export type OAuthCodeRow = typeof oauthCodes.$inferSelect;
export type OAuthRefreshTokenRow = typeof oauthRefreshTokens.$inferSelect;
