import type { Context } from "hono";
import type { AppEnv } from "../context";
import { evictCachedUser } from "../credentials/revocable-state";
import { revokeAllSessionsOfUserStatements } from "../identity/sessions";
import { markEmailVerifiedStatement } from "../identity/users";
import { endPlantedWaysInStatements, hasUnvouchedIdentities, unlinkUnvouchedIdentitiesStatement } from "../providers/identities";

/**
 * Confirms an account's address by a mailed link (email verification, or a password reset, which
 * proves the same). The first confirmation ends what was attached to the account before anyone
 * proved they read its mail (account pre-hijacking, Sudhodanan and Paverd's non-verifying-IdP and
 * classic-federated merge attacks): every identity its provider did not vouch for at that address is
 * unlinked, and, when there was one, every session of the account ends (a session does not record
 * the way it began, and any of them may be the pre-hijacker's), and so does every other way in that
 * may have been planted meanwhile: passkeys, TOTP with its recovery codes, and API keys. One batch, so a concurrent sign-in
 * cannot slip between the check and the writes. False when the account no longer has the address.
 */
export async function confirmMailedAddress(c: Context<AppEnv>, userId: string, email: string): Promise<boolean> {
  const db = c.get("db");
  const now = Date.now();
  const suspect = hasUnvouchedIdentities(db, userId, email);
  // The ends come first: their conditions read the account as still unconfirmed.
  const [, , removedPasskeys, removedTotp, , revokedKeys, unlinked, confirmed] = await db.batch([
    ...revokeAllSessionsOfUserStatements(db, userId, now, suspect),
    ...endPlantedWaysInStatements(db, userId, suspect, now),
    unlinkUnvouchedIdentitiesStatement(db, userId, email),
    markEmailVerifiedStatement(db, userId, email, now),
  ]);
  if (unlinked.length > 0) {
    evictCachedUser(userId);
    // Whoever held the account before its mail was read may have planted these; the owner sets up their own.
    await c.get("audit").record({
      type: "account.planted_access_removed",
      subject: userId,
      details: { passkeys: removedPasskeys.length, apiKeys: revokedKeys.length, totp: removedTotp.length > 0, reason: "address_confirmed" },
    });
  }
  for (const identity of unlinked) {
    await c.get("audit").record({
      type: "provider.unlinked",
      subject: userId,
      details: { identityId: identity.id, provider: identity.provider, reason: "address_confirmed", sessionsEnded: true },
    });
  }
  return confirmed.length === 1;
}
