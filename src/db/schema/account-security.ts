import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { sessions, users } from "./identity";

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
    /** What the first step proved (`["pwd"]` for a password, `[]` for a provider), so the session records both steps. */
    firstAmr: text("first_amr", { mode: "json" }).$type<string[]>().notNull().default([]),
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
