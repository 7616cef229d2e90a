import { and, eq, gt, lt } from "drizzle-orm";
import { sha256Hex } from "../crypto/digest";
import type { Database } from "../db/client";
import { type OAuthFlowRow, oauthFlows, signInTickets } from "../db/schema";

/** A provider sign-in must come back within 10 minutes (RFC 9700 leaves the figure to us; the issue fixes it). */
export const OAUTH_FLOW_TTL_MS = 10 * 60 * 1000;
/** The page has a minute to collect its tokens with the ticket. */
export const SIGN_IN_TICKET_TTL_MS = 60 * 1000;

/** Stores a flow under the hash of its state, and drops flows that expired unused. */
export async function insertFlow(
  db: Database,
  state: string,
  flow: Omit<OAuthFlowRow, "stateHash" | "createdAt" | "expiresAt">,
): Promise<void> {
  const now = Date.now();
  await db.batch([
    db.delete(oauthFlows).where(lt(oauthFlows.expiresAt, now)),
    db.insert(oauthFlows).values({ ...flow, stateHash: await sha256Hex(state), createdAt: now, expiresAt: now + OAUTH_FLOW_TTL_MS }),
  ]);
}

/**
 * Takes the flow a state belongs to, at most once: the row is deleted by the same statement that
 * reads it, so a replayed or concurrent second callback finds nothing. Expired flows are not returned.
 */
export async function consumeFlow(db: Database, state: string): Promise<OAuthFlowRow | undefined> {
  const row = await db
    .delete(oauthFlows)
    .where(eq(oauthFlows.stateHash, await sha256Hex(state)))
    .returning()
    .get();
  return row && row.expiresAt > Date.now() ? row : undefined;
}

/** What a ticket stands for: the session a sign-in started, or the user whose second factor is still due. */
export type SignInTicketFor = { sessionId: string } | { userId: string };

export async function insertSignInTicket(db: Database, ticket: string, standsFor: SignInTicketFor): Promise<void> {
  const now = Date.now();
  await db.batch([
    db.delete(signInTickets).where(lt(signInTickets.expiresAt, now)),
    db.insert(signInTickets).values({ ticketHash: await sha256Hex(ticket), ...standsFor, expiresAt: now + SIGN_IN_TICKET_TTL_MS }),
  ]);
}

/** What a ticket stands for, at most once and within its minute. */
export async function consumeSignInTicket(db: Database, ticket: string): Promise<SignInTicketFor | undefined> {
  const row = await db
    .delete(signInTickets)
    .where(and(eq(signInTickets.ticketHash, await sha256Hex(ticket)), gt(signInTickets.expiresAt, Date.now())))
    .returning()
    .get();
  if (row?.sessionId) return { sessionId: row.sessionId };
  if (row?.userId) return { userId: row.userId };
  return undefined;
}
