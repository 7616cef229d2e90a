import type { Auditor } from "../audit/record";
import { evictCachedUser } from "../credentials/revocable-state";
import { constantTimeEqual } from "../crypto/digest";
import { utf8 } from "../crypto/encoding";
import { hashPassword } from "../crypto/password";
import type { Database } from "../db/client";
import type { Config } from "../env";
import { countActiveAdmins, findUserByEmail, promoteBootstrapAdmin } from "./users";

/**
 * The documented way to get the first admin: with `BOOTSTRAP_ADMIN_EMAIL` and
 * `BOOTSTRAP_ADMIN_PASSWORD` set and no active admin yet, a login with exactly that pair
 * creates the account as admin, or promotes an existing one. Promotion also resets the
 * password to the bootstrap one and ends the account's sessions, so somebody who registered
 * the address first gains nothing. Once an admin exists this does nothing.
 */
export async function bootstrapAdminOnLogin(db: Database, config: Config, audit: Auditor, email: string, password: string): Promise<void> {
  const bootstrap = config.bootstrapAdmin;
  if (!bootstrap || email !== bootstrap.email) return;
  if (!constantTimeEqual(utf8(password), utf8(bootstrap.password))) return;
  // A cheap early exit, so a normal login with the pair costs no extra hash; the guard is in the write.
  if ((await countActiveAdmins(db)) > 0) return;

  const existing = await findUserByEmail(db, email);
  const bootstrapped = await promoteBootstrapAdmin(db, existing, email, await hashPassword(password));
  if (!bootstrapped) return; // an admin exists by now, or a concurrent bootstrap won
  evictCachedUser(bootstrapped.userId);
  await audit.record({ type: "user.bootstrapped_admin", subject: bootstrapped.userId, details: { promoted: bootstrapped.promoted } });
}
