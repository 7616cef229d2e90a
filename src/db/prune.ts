import { inArray, lt, type SQL } from "drizzle-orm";
import type { SQLiteColumn, SQLiteTable } from "drizzle-orm/sqlite-core";
import { NODE_TOKEN_MAX_TTL_SECONDS } from "../mesh/config";
import type { Database } from "./client";
import {
  emailTokens,
  meshNodeRevocations,
  meshNodeTokens,
  meshSockets,
  mfaChallenges,
  oauthAssertionJtis,
  oauthCodes,
  oauthConsentTickets,
  oauthRefreshTokens,
  pqcReferences,
  refreshTokens,
  sessions,
  webauthnChallenges,
} from "./schema";

/** Rows deleted per statement: D1 bounds a statement's time, and one run's statements are few. */
export const PRUNE_BATCH = 1000;
/** Statements per table per run; what is left goes on the next run. */
export const PRUNE_BATCHES_PER_TABLE = 4;
/** Expired rows are kept this much longer, so a verifier's clock skew never meets a missing row. */
export const PRUNE_GRACE_MS = 60 * 60 * 1000;

interface PruneRule {
  table: SQLiteTable;
  key: SQLiteColumn;
  /** Rows no credential can use any more, at `now`. */
  dead: (now: number) => SQL;
}

/**
 * Every table that grows with time, and when a row is dead. Refresh tokens go before their
 * sessions (which would otherwise take them along by cascade, in one unbounded statement).
 * A node revocation is dead once every token it could match has expired: `iat` is at most
 * `revoked_before`, and no token lives longer than the longest node-token lifetime.
 */
/** The rule of nearly every table: dead once its `expires_at` is more than the grace in the past. */
const expiredBeforeGrace = (expiresAt: SQLiteColumn) => (now: number) => lt(expiresAt, now - PRUNE_GRACE_MS);

const RULES: Record<string, PruneRule> = {
  refresh_tokens: { table: refreshTokens, key: refreshTokens.id, dead: expiredBeforeGrace(refreshTokens.expiresAt) },
  sessions: { table: sessions, key: sessions.id, dead: expiredBeforeGrace(sessions.expiresAt) },
  mesh_node_tokens: { table: meshNodeTokens, key: meshNodeTokens.jti, dead: expiredBeforeGrace(meshNodeTokens.expiresAt) },
  mesh_node_revocations: {
    table: meshNodeRevocations,
    key: meshNodeRevocations.nodeId,
    dead: (now) => lt(meshNodeRevocations.revokedBefore, Math.floor((now - PRUNE_GRACE_MS) / 1000) - NODE_TOKEN_MAX_TTL_SECONDS),
  },
  mesh_sockets: { table: meshSockets, key: meshSockets.socketId, dead: expiredBeforeGrace(meshSockets.expiresAt) },
  // Refused from the instant of expiry by their lookup (`expires_at > now`); the grace only delays the delete.
  pqc_references: {
    table: pqcReferences,
    key: pqcReferences.referenceHash,
    dead: expiredBeforeGrace(pqcReferences.expiresAt),
  },
  // Account security: each refused from the instant of expiry by its lookup, like PQC references.
  email_tokens: { table: emailTokens, key: emailTokens.tokenHash, dead: expiredBeforeGrace(emailTokens.expiresAt) },
  mfa_challenges: {
    table: mfaChallenges,
    key: mfaChallenges.challengeHash,
    dead: expiredBeforeGrace(mfaChallenges.expiresAt),
  },
  webauthn_challenges: {
    table: webauthnChallenges,
    key: webauthnChallenges.id,
    dead: expiredBeforeGrace(webauthnChallenges.expiresAt),
  },
  // The OAuth provider (docs/oauth.md): each refused from the instant of expiry by its lookup. A code
  // replayed after its row is gone is refused as unknown rather than as a replay; by then it is an hour old.
  oauth_codes: { table: oauthCodes, key: oauthCodes.codeHash, dead: expiredBeforeGrace(oauthCodes.expiresAt) },
  oauth_refresh_tokens: {
    table: oauthRefreshTokens,
    key: oauthRefreshTokens.id,
    dead: expiredBeforeGrace(oauthRefreshTokens.expiresAt),
  },
  oauth_consent_tickets: {
    table: oauthConsentTickets,
    key: oauthConsentTickets.ticketHash,
    dead: expiredBeforeGrace(oauthConsentTickets.expiresAt),
  },
  oauth_assertion_jtis: {
    table: oauthAssertionJtis,
    key: oauthAssertionJtis.jtiHash,
    dead: expiredBeforeGrace(oauthAssertionJtis.expiresAt),
  },
};

/** Deletes up to `PRUNE_BATCH` dead rows of one table; returns how many went. */
async function pruneBatch(db: Database, rule: PruneRule, now: number): Promise<number> {
  const doomed = db.select({ key: rule.key }).from(rule.table).where(rule.dead(now)).limit(PRUNE_BATCH);
  const result = await db.delete(rule.table).where(inArray(rule.key, doomed));
  return result.meta.changes ?? 0;
}

/** Deletes dead rows from every table that grows with time, in bounded batches; returns the count per table. */
export async function pruneExpiredRows(db: Database, now = Date.now()): Promise<Record<string, number>> {
  const pruned: Record<string, number> = {};
  for (const [name, rule] of Object.entries(RULES)) {
    pruned[name] = 0;
    for (let batch = 0; batch < PRUNE_BATCHES_PER_TABLE; batch++) {
      const deleted = await pruneBatch(db, rule, now);
      pruned[name] += deleted;
      if (deleted < PRUNE_BATCH) break;
    }
  }
  return pruned;
}
