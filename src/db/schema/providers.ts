import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { sessions, users } from "./identity";

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

export type UserIdentityRow = typeof userIdentities.$inferSelect;
export type OAuthFlowRow = typeof oauthFlows.$inferSelect;
