import { and, eq, gt } from "drizzle-orm";
import { sha256Hex } from "../crypto/digest";
import { randomBase64Url } from "../crypto/random";
import type { Database } from "../db/client";
import { oauthConsents, oauthConsentTickets } from "../db/schema";

/** How long a consent page may be left open before its decision is refused. */
const CONSENT_TICKET_TTL_MS = 10 * 60_000;

/** True when the person already consented to exactly this scope set for this client. */
export async function hasConsent(db: Database, userId: string, clientId: string, scope: string): Promise<boolean> {
  const row = await db
    .select({ scope: oauthConsents.scope })
    .from(oauthConsents)
    .where(and(eq(oauthConsents.userId, userId), eq(oauthConsents.clientId, clientId), eq(oauthConsents.scope, scope)))
    .get();
  return row !== undefined;
}

export async function recordConsent(db: Database, userId: string, clientId: string, scope: string): Promise<void> {
  await db.insert(oauthConsents).values({ userId, clientId, scope, createdAt: Date.now() }).onConflictDoNothing();
}

/** The single-use ticket the consent page posts back, bound to the session that saw it and to the exact request. */
export async function issueConsentTicket(db: Database, sessionId: string, clientId: string, request: string): Promise<string> {
  const ticket = randomBase64Url(32);
  await db.insert(oauthConsentTickets).values({
    ticketHash: await sha256Hex(ticket),
    sessionId,
    clientId,
    request,
    expiresAt: Date.now() + CONSENT_TICKET_TTL_MS,
  });
  return ticket;
}

/**
 * Consumes a ticket (`DELETE … RETURNING`, so it works once) for this session; the authorization
 * request it was issued for, or undefined when it is unknown, used, expired or another session's.
 */
export async function redeemConsentTicket(
  db: Database,
  ticket: string,
  sessionId: string,
): Promise<{ clientId: string; request: string } | undefined> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(ticket)) return undefined;
  const [row] = await db
    .delete(oauthConsentTickets)
    .where(
      and(
        eq(oauthConsentTickets.ticketHash, await sha256Hex(ticket)),
        eq(oauthConsentTickets.sessionId, sessionId),
        gt(oauthConsentTickets.expiresAt, Date.now()),
      ),
    )
    .returning();
  return row ? { clientId: row.clientId, request: row.request } : undefined;
}
