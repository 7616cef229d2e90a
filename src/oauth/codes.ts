import { and, eq, isNull } from "drizzle-orm";
import { sha256Hex } from "../crypto/digest";
import { toBase64Url, utf8 } from "../crypto/encoding";
import { randomBase64Url } from "../crypto/random";
import type { Database } from "../db/client";
import { type OAuthCodeRow, oauthCodes } from "../db/schema";
import type { AuthorizeRequest } from "./authorize-request";
import { revokeRefreshFamily } from "./refresh-tokens";

/** OAuth 2.1 §4.1.2: a code lives briefly; 60 s covers a redirect and one token request. */
export const CODE_TTL_MS = 60_000;
const CODE_BYTES = 32;

/** Issues a code for the request, kept as its SHA-256; the code itself goes only into the redirect. */
export async function issueCode(
  db: Database,
  request: AuthorizeRequest,
  person: { userId: string; sessionId: string; authTime: number; amr: readonly string[] },
): Promise<string> {
  const code = randomBase64Url(CODE_BYTES);
  const now = Date.now();
  await db.insert(oauthCodes).values({
    codeHash: await sha256Hex(code),
    clientId: request.client.id,
    userId: person.userId,
    sessionId: person.sessionId,
    redirectUri: request.redirectUri,
    scope: request.scope,
    resource: request.resource,
    nonce: request.nonce ?? null,
    codeChallenge: request.codeChallenge,
    authTime: person.authTime,
    amr: [...person.amr],
    familyId: null,
    usedAt: null,
    expiresAt: now + CODE_TTL_MS,
    createdAt: now,
  });
  return code;
}

export type Redemption = { outcome: "redeemed"; code: OAuthCodeRow } | { outcome: "replayed"; userId: string } | { outcome: "invalid" };

/**
 * Claims a code for its one exchange: a conditional update (`used_at IS NULL`), so of two concurrent
 * exchanges exactly one wins. A code already used is a replay (OAuth 2.1 §4.1.3): the refresh family
 * its first exchange started is revoked, so whoever holds those tokens loses them.
 */
export async function redeemCode(db: Database, code: string): Promise<Redemption> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(code)) return { outcome: "invalid" };
  const codeHash = await sha256Hex(code);
  const [claimed] = await db
    .update(oauthCodes)
    .set({ usedAt: Date.now() })
    .where(and(eq(oauthCodes.codeHash, codeHash), isNull(oauthCodes.usedAt)))
    .returning();
  if (claimed) return { outcome: "redeemed", code: claimed };
  const used = await db.select().from(oauthCodes).where(eq(oauthCodes.codeHash, codeHash)).get();
  if (!used) return { outcome: "invalid" };
  if (used.familyId) await revokeRefreshFamily(db, used.familyId);
  return { outcome: "replayed", userId: used.userId };
}

/** Records which refresh family the exchange started, for `redeemCode`'s replay rule. */
export async function noteCodeFamily(db: Database, codeHash: string, familyId: string): Promise<void> {
  await db.update(oauthCodes).set({ familyId }).where(eq(oauthCodes.codeHash, codeHash));
}

/** RFC 7636 §4.1: 43 to 128 unreserved characters. */
const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

/** RFC 7636 §4.6: BASE64URL(SHA256(code_verifier)) must equal the challenge. */
export async function pkceMatches(verifier: string, challenge: string): Promise<boolean> {
  if (!VERIFIER.test(verifier)) return false;
  const digest = toBase64Url(new Uint8Array(await crypto.subtle.digest("SHA-256", utf8(verifier))));
  return digest === challenge;
}
