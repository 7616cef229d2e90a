import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/** All times are Unix epoch milliseconds. */

export const users = sqliteTable("users", {
  id: text("id").primaryKey(),
  email: text("email").notNull().unique(),
  passwordHash: text("password_hash").notNull(),
  role: text("role", { enum: ["admin", "operator", "user", "guest"] })
    .notNull()
    .default("user"),
  displayName: text("display_name"),
  disabledAt: integer("disabled_at"),
  /** When the owner proved they read mail at `email` (a verification or reset link); null until then. */
  emailVerifiedAt: integer("email_verified_at"),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

/**
 * A sign-in: one per login. Its id is the `sid` claim of every access token issued for it and
 * the family id of its refresh tokens; revoking the row ends all three at once.
 */
export const sessions = sqliteTable(
  "sessions",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /** SHA-256 of the `__Host-heady_session` cookie value. */
    cookieHash: text("cookie_hash").notNull().unique(),
    cookieExpiresAt: integer("cookie_expires_at").notNull(),
    /** Absolute end of the session and its refresh family (30 days). */
    expiresAt: integer("expires_at").notNull(),
    revokedAt: integer("revoked_at"),
    ip: text("ip"),
    userAgent: text("user_agent"),
    createdAt: integer("created_at").notNull(),
    /** Moved on each refresh of the session's tokens (not on every request, which would be a write each). */
    lastSeenAt: integer("last_seen_at"),
    /**
     * When the person last proved who they are in this session: at sign-in, then at each
     * re-authentication. Planting or removing a way in needs it to be recent (src/auth/recent-authentication.ts).
     */
    authenticatedAt: integer("authenticated_at").notNull().default(0),
  },
  (table) => [index("sessions_user_idx").on(table.userId)],
);

export const refreshTokens = sqliteTable(
  "refresh_tokens",
  {
    id: text("id").primaryKey(),
    /** SHA-256 of the token; the token itself is never stored. */
    tokenHash: text("token_hash").notNull().unique(),
    familyId: text("family_id")
      .notNull()
      .references(() => sessions.id, { onDelete: "cascade" }),
    userId: text("user_id").notNull(),
    parentId: text("parent_id"),
    /** Set, together with `used_at`, by the one refresh that rotated this token. */
    replacedBy: text("replaced_by"),
    usedAt: integer("used_at"),
    revokedAt: integer("revoked_at"),
    expiresAt: integer("expires_at").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (table) => [index("refresh_tokens_family_idx").on(table.familyId)],
);

/** `hdy_` API keys. Only the SHA-256 of the whole key is kept, never the key. */
export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    keyHash: text("key_hash").notNull().unique(),
    /** `hdy_` plus 8 characters, safe to show in lists and logs. */
    displayPrefix: text("display_prefix").notNull(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    description: text("description").notNull(),
    role: text("role", { enum: ["admin", "operator", "user", "guest"] }).notNull(),
    scopes: text("scopes", { mode: "json" }).$type<string[]>().notNull().default(sql`'[]'`),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at"),
    revokedAt: integer("revoked_at"),
    /** Refreshed at most once a minute per key, not on every request. */
    lastUsedAt: integer("last_used_at"),
    /** Uses counted per isolate and added when `last_used_at` is refreshed. */
    useCount: integer("use_count").notNull().default(0),
  },
  (table) => [index("api_keys_user_idx").on(table.userId, table.createdAt)],
);

/**
 * The audit ledger as exported to D1 by the `AuditLedger` Durable Object, which sequences the
 * hash chain: `hash = SHA-256(canonical(event) || prev_hash)`, `seq` gap-free from 1.
 */
export const auditEvents = sqliteTable(
  "audit_events",
  {
    id: text("id").primaryKey(),
    seq: integer("seq").notNull().unique(),
    type: text("type").notNull(),
    subject: text("subject"),
    actor: text("actor"),
    requestId: text("request_id"),
    ip: text("ip"),
    userAgent: text("user_agent"),
    details: text("details").notNull().default("{}"),
    createdAt: integer("created_at").notNull(),
    prevHash: text("prev_hash").notNull(),
    hash: text("hash").notNull(),
    /** The Ed25519 trust receipt, for the event types that get one. */
    receipt: text("receipt"),
  },
  (table) => [
    index("audit_events_subject_idx").on(table.subject, table.createdAt),
    index("audit_events_type_idx").on(table.type, table.createdAt),
  ],
);

/** Events that could not reach the ledger; the ledger drains this table on its alarm. */
export const auditOutbox = sqliteTable("audit_outbox", {
  id: text("id").primaryKey(),
  event: text("event").notNull(),
  createdAt: integer("created_at").notNull(),
});

/**
 * PQC references: the token a reference stands for, under the SHA-256 of the reference. In D1
 * rather than KV because a reference is used right after it is issued, often from another
 * location, and KV is not read-after-write there; D1 is (every query goes to the primary).
 */
export const pqcReferences = sqliteTable(
  "pqc_references",
  {
    referenceHash: text("reference_hash").primaryKey(),
    token: text("token").notNull(),
    jti: text("jti").notNull(),
    /** The token's `exp`, in milliseconds like every time here. */
    expiresAt: integer("expires_at").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (table) => [index("pqc_references_expires_idx").on(table.expiresAt)],
);

/**
 * Every PQC public key the Worker has signed with, for rotation with overlap. The newest key is
 * current (`retires_at` null); adopting a newer one gives every older current key a retirement time
 * `PQC_KEY_OVERLAP_SECONDS` ahead, so tokens signed before the alias moved verify until they
 * expire, the JWKS publishes both keys meanwhile, and the old `kid` is refused afterwards.
 */
export const pqcKeys = sqliteTable("pqc_keys", {
  kid: text("kid").primaryKey(),
  /** The AKP JWK, as published. */
  jwk: text("jwk").notNull(),
  /** When a Worker first signed with (or was told of) this key; orders the keys. */
  publishedAt: integer("published_at").notNull(),
  retiresAt: integer("retires_at"),
});

export type UserRow = typeof users.$inferSelect;
export type SessionRow = typeof sessions.$inferSelect;
export type ApiKeyRow = typeof apiKeys.$inferSelect;

/**
 * PulseMesh: every node token SAGE issued, by `jti`. A connect or refresh needs the token's row
 * (an unknown or revoked jti is refused), and a jti revocation finds its node here.
 */
export const meshNodeTokens = sqliteTable(
  "mesh_node_tokens",
  {
    jti: text("jti").primaryKey(),
    nodeId: text("node_id").notNull(),
    role: text("role").notNull(),
    /** The user (operator, admin, or owner of the bootstrap API key) who asked for it. */
    issuedBy: text("issued_by").notNull(),
    issuedAt: integer("issued_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
    revokedAt: integer("revoked_at"),
  },
  (table) => [index("mesh_node_tokens_node_idx").on(table.nodeId, table.issuedAt)],
);

/** PulseMesh: a node revocation. Every token of the node with `iat` at or before `revoked_before` is dead. */
export const meshNodeRevocations = sqliteTable("mesh_node_revocations", {
  nodeId: text("node_id").primaryKey(),
  /** Unix seconds (the unit of `iat`), inclusive. */
  revokedBefore: integer("revoked_before").notNull(),
  revokedBy: text("revoked_by").notNull(),
  revokedAt: integer("revoked_at").notNull(),
});

/**
 * PulseMesh: one row per open socket, written by the Worker on connect and removed by the topic
 * object when the socket closes. It caps a node's sockets across all topics (a connect inserts
 * its row only while the node holds fewer live rows than `MESH_MAX_SOCKETS_PER_NODE`), and it
 * tells a revocation which topic objects hold the node's sockets. A row outlives a socket the
 * runtime dropped without a close event only until the node hits its cap, when rows that no
 * topic object still holds are swept, or until `expires_at` (the token's expiry; a refresh moves it).
 */
export const meshSockets = sqliteTable(
  "mesh_sockets",
  {
    socketId: text("socket_id").primaryKey(),
    nodeId: text("node_id").notNull(),
    topic: text("topic").notNull(),
    connectedAt: integer("connected_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
  },
  (table) => [index("mesh_sockets_node_idx").on(table.nodeId, table.expiresAt), index("mesh_sockets_expiry_idx").on(table.expiresAt)],
);

/**
 * A sign-in identity at an OAuth/OIDC provider: (provider, subject) is unique and belongs to one
 * user. A user may hold several; the password (when set) is one more way in.
 */
export const userIdentities = sqliteTable(
  "user_identities",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    provider: text("provider").notNull(),
    /** The provider's stable user id (`sub` for OIDC). */
    subject: text("subject").notNull(),
    /** The email the provider reported at the last sign-in, and whether it said it was verified. */
    email: text("email"),
    emailVerified: integer("email_verified", { mode: "boolean" }).notNull().default(false),
    createdAt: integer("created_at").notNull(),
    lastSignInAt: integer("last_sign_in_at"),
  },
  (table) => [
    uniqueIndex("user_identities_provider_subject_idx").on(table.provider, table.subject),
    index("user_identities_user_idx").on(table.userId),
  ],
);

/**
 * A provider sign-in in progress, keyed by the SHA-256 of its `state`. Deleted by the callback that
 * consumes it (`DELETE … RETURNING`), so a state works once; dead after 10 minutes either way.
 */
export const oauthFlows = sqliteTable(
  "oauth_flows",
  {
    stateHash: text("state_hash").primaryKey(),
    provider: text("provider").notNull(),
    /** SHA-256 of the `__Host-heady_oauth` cookie of the browser that started the flow. */
    browserHash: text("browser_hash").notNull(),
    /** PKCE verifier (null for providers without PKCE) and OIDC nonce (null for plain OAuth 2.0). */
    codeVerifier: text("code_verifier"),
    nonce: text("nonce"),
    redirectTo: text("redirect_to").notNull(),
    /** Set when a signed-in user is linking this provider to their account. */
    linkUserId: text("link_user_id").references(() => users.id, { onDelete: "cascade" }),
    /**
     * The session that started the linking: the callback links nothing unless it is still live, so a
     * stolen token's flow dies with the session at sign-out or reset.
     */
    linkSessionId: text("link_session_id").references(() => sessions.id, { onDelete: "cascade" }),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
  },
  (table) => [index("oauth_flows_expires_idx").on(table.expiresAt)],
);

/**
 * The one-time ticket a provider callback hands the page (in the URL fragment) to collect the
 * session's access and refresh tokens, which never travel in a URL. Single use, 60 seconds. For an
 * account with a second factor there is no session yet: the ticket holds only the user, and
 * collecting it answers the MFA challenge a password login answers.
 */
export const signInTickets = sqliteTable("sign_in_tickets", {
  ticketHash: text("ticket_hash").primaryKey(),
  /** The session the sign-in started; null while the second factor is still due. */
  sessionId: text("session_id").references(() => sessions.id, { onDelete: "cascade" }),
  userId: text("user_id").references(() => users.id, { onDelete: "cascade" }),
  expiresAt: integer("expires_at").notNull(),
});

export type UserIdentityRow = typeof userIdentities.$inferSelect;
export type OAuthFlowRow = typeof oauthFlows.$inferSelect;

/**
 * Single-use tokens sent by mail: email verification (24 h) and password reset (15 minutes). Only
 * the SHA-256 of the token is kept; the row is consumed by one conditional update (`used_at`).
 */
export const emailTokens = sqliteTable(
  "email_tokens",
  {
    tokenHash: text("token_hash").primaryKey(),
    purpose: text("purpose", { enum: ["verify_email", "reset_password"] }).notNull(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /** The address the token was sent to: a token proves control of that address only. */
    email: text("email").notNull(),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
    usedAt: integer("used_at"),
  },
  (table) => [index("email_tokens_user_idx").on(table.userId, table.purpose), index("email_tokens_expires_idx").on(table.expiresAt)],
);

/** Mail the dev outbox transport "sent" (local runs only: npm run dev and the tests; a deployment refuses that transport). */
export const devOutbox = sqliteTable(
  "dev_outbox",
  {
    id: text("id").primaryKey(),
    recipient: text("recipient").notNull(),
    subject: text("subject").notNull(),
    text: text("text").notNull(),
    html: text("html").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (table) => [index("dev_outbox_recipient_idx").on(table.recipient, table.createdAt)],
);

export type EmailTokenRow = typeof emailTokens.$inferSelect;

/**
 * A TOTP authenticator (RFC 6238), one per user. Unconfirmed (`confirmed_at` null) until the owner
 * proves it with a first code; only a confirmed one makes login two steps. `last_used_step` is the
 * time step of the last accepted code: a code of that step or an earlier one is a replay.
 */
export const totpCredentials = sqliteTable("totp_credentials", {
  userId: text("user_id")
    .primaryKey()
    .references(() => users.id, { onDelete: "cascade" }),
  /** The shared secret (20 random bytes, base32), which the server needs in the clear to compute codes. */
  secret: text("secret").notNull(),
  confirmedAt: integer("confirmed_at"),
  lastUsedStep: integer("last_used_step"),
  createdAt: integer("created_at").notNull(),
});

/** Single-use recovery codes, ten per enrolment; only the SHA-256 of each is kept. */
export const recoveryCodes = sqliteTable(
  "recovery_codes",
  {
    codeHash: text("code_hash").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    createdAt: integer("created_at").notNull(),
    usedAt: integer("used_at"),
  },
  (table) => [index("recovery_codes_user_idx").on(table.userId)],
);

/**
 * The second step of a login with MFA on: the password step hands out this challenge (its SHA-256
 * is the key) instead of tokens. Five minutes, five wrong codes, one success.
 */
export const mfaChallenges = sqliteTable(
  "mfa_challenges",
  {
    challengeHash: text("challenge_hash").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    attempts: integer("attempts").notNull().default(0),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
    usedAt: integer("used_at"),
  },
  (table) => [index("mfa_challenges_expires_idx").on(table.expiresAt)],
);

/** WebAuthn credentials (passkeys). The credential id is the key; the public key is COSE, base64url. */
export const passkeys = sqliteTable(
  "passkeys",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    publicKey: text("public_key").notNull(),
    /** The authenticator's signature counter; an assertion must raise it (when it counts at all). */
    counter: integer("counter").notNull(),
    transports: text("transports", { mode: "json" }).$type<string[]>().notNull().default(sql`'[]'`),
    deviceType: text("device_type").notNull(),
    backedUp: integer("backed_up", { mode: "boolean" }).notNull(),
    name: text("name").notNull(),
    createdAt: integer("created_at").notNull(),
    lastUsedAt: integer("last_used_at"),
  },
  (table) => [index("passkeys_user_idx").on(table.userId)],
);

/**
 * A WebAuthn ceremony in progress: the challenge the options carried, for whom and what for.
 * Deleted by the verification that uses it (`DELETE … RETURNING`), so it works once; 5 minutes.
 */
export const webauthnChallenges = sqliteTable(
  "webauthn_challenges",
  {
    id: text("id").primaryKey(),
    challenge: text("challenge").notNull(),
    purpose: text("purpose", { enum: ["register", "sign_in", "second_factor"] }).notNull(),
    /** The registering user, or the user of the MFA challenge; null for a first-factor sign-in. */
    userId: text("user_id").references(() => users.id, { onDelete: "cascade" }),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
  },
  (table) => [index("webauthn_challenges_expires_idx").on(table.expiresAt)],
);

export type PasskeyRow = typeof passkeys.$inferSelect;

/**
 * Onboarding: one row per stage a person has saved, keyed by (user, stage), so saving a stage again
 * replaces its data. Each write is conditional on the earlier stages' rows (src/db/onboarding.ts),
 * so the order holds even for concurrent requests. The `completion` row carries the id of the API key
 * completion created; it has no foreign key because it is written first, in the same transaction
 * that inserts the key only if this row names it.
 */
export const onboardingStages = sqliteTable(
  "onboarding_stages",
  {
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    stage: text("stage", { enum: ["identity", "interests", "buddy_config", "plan", "completion"] }).notNull(),
    data: text("data", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    apiKeyId: text("api_key_id"),
    savedAt: integer("saved_at").notNull(),
  },
  (table) => [primaryKey({ columns: [table.userId, table.stage] })],
);

export type OnboardingStageRow = typeof onboardingStages.$inferSelect;

/**
 * Preference updates on their way to user memory (Postgres, src/memory): written here first, so a
 * memory store that is down loses nothing. Applied in id order and then deleted, by the write that
 * recorded them, by the user's next memory request, or by the maintenance cron.
 */
export const pendingMemoryPreferences = sqliteTable(
  "pending_memory_preferences",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /** A partial `Preferences` (src/schemas/preferences.ts), as JSON. */
    patch: text("patch", { mode: "json" }).notNull().$type<Record<string, unknown>>(),
    createdAt: integer("created_at").notNull(),
    /** When applying the user's patches last failed (null: not yet); such users go to the back of the cron's queue. */
    lastAttemptAt: integer("last_attempt_at"),
  },
  (table) => [index("pending_memory_preferences_user_idx").on(table.userId, table.id)],
);

export type PendingMemoryPreferencesRow = typeof pendingMemoryPreferences.$inferSelect;
