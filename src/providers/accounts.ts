import { z } from "zod";
import type { Database } from "../db/client";
import type { UserRow } from "../db/schema";
import { UserDisplayName } from "../identity/schemas";
import { findUserByEmail, findUserById, insertUser, isEmailVerified, NO_PASSWORD } from "../identity/users";
import type { ProviderProfile } from "./definition";
import { findIdentity, insertIdentity, touchIdentity } from "./identities";

/** How a provider identity maps onto an account, or why it does not. */
export type AccountResolution =
  | { outcome: "signed_in"; user: UserRow; created: boolean; linked: boolean }
  | { outcome: "linked"; user: UserRow }
  | { outcome: "disabled"; user: UserRow }
  | {
      outcome: "refused";
      reason: "email_missing" | "email_unverified" | "account_email_unverified" | "identity_taken" | "account_missing";
    };

const Email = z.email().max(254);

/**
 * The provider's name as a display name, cut to the limit without splitting a surrogate pair; none
 * if it is not storable text (a sign-in is not refused over the provider's name).
 */
function usableDisplayName(profile: ProviderProfile): string | undefined {
  let name = profile.name?.slice(0, 100);
  if (name && /[\uD800-\uDBFF]$/.test(name)) name = name.slice(0, -1);
  const parsed = UserDisplayName.safeParse(name);
  return parsed.success ? parsed.data : undefined;
}

/** The provider's email, lower-cased, if it is a plausible address at all. */
function usableEmail(profile: ProviderProfile): string | undefined {
  const email = profile.email?.toLowerCase();
  return email && Email.safeParse(email).success ? email : undefined;
}

/**
 * Finds or creates the account for a provider identity:
 * - a known identity signs in its user;
 * - with `linkUserId` (a signed-in user linking), a new identity joins that user, and one linked
 *   to someone else is refused;
 * - a new identity whose email no account holds creates a `user` account without a password;
 * - a new identity whose email an account holds joins it only if both sides verified the email: the
 *   provider, and the account's owner (else whoever registered the address first, without reading
 *   its mail, would receive the real owner's identity: account pre-hijacking).
 * A disabled account is answered as such before anything is written to it.
 */
export async function resolveAccount(
  db: Database,
  provider: string,
  profile: ProviderProfile,
  linkUserId: string | null,
): Promise<AccountResolution> {
  const email = usableEmail(profile);
  const known = await findIdentity(db, provider, profile.subject);
  if (known) {
    if (linkUserId && known.user.id !== linkUserId) return { outcome: "refused", reason: "identity_taken" };
    if (known.user.disabledAt !== null) return { outcome: "disabled", user: known.user };
    await touchIdentity(db, known.identity.id, email, profile.emailVerified);
    return linkUserId ? { outcome: "linked", user: known.user } : { outcome: "signed_in", user: known.user, created: false, linked: false };
  }
  const identity = { provider, subject: profile.subject, email, emailVerified: profile.emailVerified };

  if (linkUserId) {
    const user = await findUserById(db, linkUserId);
    if (!user) return { outcome: "refused", reason: "account_missing" };
    if (user.disabledAt !== null) return { outcome: "disabled", user };
    return (await insertIdentity(db, { ...identity, userId: user.id }))
      ? { outcome: "linked", user }
      : { outcome: "refused", reason: "identity_taken" };
  }
  if (!email) return { outcome: "refused", reason: "email_missing" };

  const holder = await findUserByEmail(db, email);
  if (holder) {
    if (!profile.emailVerified) return { outcome: "refused", reason: "email_unverified" };
    if (!isEmailVerified(holder)) return { outcome: "refused", reason: "account_email_unverified" };
    if (holder.disabledAt !== null) return { outcome: "disabled", user: holder };
    if (!(await insertIdentity(db, { ...identity, userId: holder.id }))) return { outcome: "refused", reason: "identity_taken" };
    return { outcome: "signed_in", user: holder, created: false, linked: true };
  }
  const user = await insertUser(db, {
    email,
    passwordHash: NO_PASSWORD,
    role: "user",
    displayName: usableDisplayName(profile),
    emailVerified: profile.emailVerified,
  });
  // Someone took the address between the lookup and the insert: treat it as held, and unverified.
  if (!user) return { outcome: "refused", reason: "email_unverified" };
  if (!(await insertIdentity(db, { ...identity, userId: user.id }))) return { outcome: "refused", reason: "identity_taken" };
  return { outcome: "signed_in", user, created: true, linked: true };
}
