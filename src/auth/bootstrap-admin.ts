import type { Config } from "../env";
import type { Auditor } from "../audit/record";
import type { Database } from "../db/client";
import { constantTimeEqual } from "../crypto/digest";
import { utf8 } from "../crypto/encoding";
import { hashPassword } from "../crypto/password";
import { countActiveAdmins, findUserByEmail, insertUser, setUserRole, updatePasswordHash } from "../db/users";
import { revokeAllSessionsOfUser } from "../db/sessions";

/**
 * The documented way to get the first admin: with `BOOTSTRAP_ADMIN_EMAIL` and
 * `BOOTSTRAP_ADMIN_PASSWORD` set and no active admin yet, a login with exactly that pair
 * creates the account as admin, or promotes an existing one. Promotion also resets the
 * password to the bootstrap one and ends the account's sessions, so somebody who registered
 * the address first gains nothing. Once an admin exists this does nothing.
 */
export async function bootstrapAdminOnLogin(
  db: Database,
  config: Config,
  audit: Auditor,
  email: string,
  password: string,
): Promise<void> {
  const bootstrap = config.bootstrapAdmin;
  if (!bootstrap || email !== bootstrap.email) return;
  if (!constantTimeEqual(utf8(password), utf8(bootstrap.password))) return;
  if ((await countActiveAdmins(db)) > 0) return;

  const passwordHash = await hashPassword(password);
  const existing = await findUserByEmail(db, email);
  let userId: string;
  if (existing) {
    await revokeAllSessionsOfUser(db, existing.id);
    await updatePasswordHash(db, existing.id, passwordHash);
    await setUserRole(db, existing.id, "admin");
    userId = existing.id;
  } else {
    const created = await insertUser(db, { email, passwordHash, role: "admin" });
    if (!created) return; // a concurrent bootstrap created it first
    userId = created.id;
  }
  await audit.record({ type: "user.bootstrapped_admin", subject: userId, details: { promoted: !!existing } });
}
