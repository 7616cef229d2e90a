import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

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
     * re-authentication. Planting or removing a way in needs it to be recent (src/account-security/recent-authentication.ts).
     */
    authenticatedAt: integer("authenticated_at").notNull().default(0),
    /**
     * How the person signed in: RFC 8176 values (src/identity/authentication-methods.ts), the ID
     * token's `amr`. Sessions started before this column existed have `[]`: nothing is claimed for them.
     */
    amr: text("amr", { mode: "json" }).$type<string[]>().notNull().default([]),
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

export type UserRow = typeof users.$inferSelect;
export type SessionRow = typeof sessions.$inferSelect;

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

export type EmailTokenRow = typeof emailTokens.$inferSelect;
