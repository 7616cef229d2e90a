import type { Context } from "hono";
import { emailSubject } from "../audit/email-subject";
import type { AppEnv } from "../context";
import type { ApiError } from "../errors";
import { SESSION_TTL_MS, signInAddressesSince } from "../identity/sessions";
import { addressKey } from "../rate-limit/client-address";
import type { WindowDecision } from "../rate-limit/limiter";
import {
  clientIpKey,
  LOGIN_PER_ACCOUNT,
  LOGIN_PER_ACCOUNT_AND_ADDRESS,
  LOGIN_PER_IP,
  rateLimited,
  resetRateLimit,
  takeRateLimit,
} from "../rate-limit/limits";

/**
 * Login throttling (docs/api.md, "Login throttling"), checked before any password is hashed:
 * 1. per client address across accounts (credential stuffing from one place);
 * 2. per account and client address: the lockout, which only the failing client suffers, so that
 *    nobody can lock an owner out from elsewhere;
 * 3. per account from everywhere, which bounds guessing spread over many addresses; past it a
 *    client address the owner signed in from within a session's lifetime still gets through.
 */
export async function admitLoginAttempt(c: Context<AppEnv>, email: string): Promise<void> {
  const address = clientIpKey(c.get("meta"));
  const perAddress = await takeRateLimit(c.env, LOGIN_PER_IP, address);
  if (!perAddress.allowed) throw rateLimited(perAddress);

  const perClient = await takeRateLimit(c.env, LOGIN_PER_ACCOUNT_AND_ADDRESS, accountAddressKey(email, address));
  if (!perClient.allowed) throw await auditedRefusal(c, email, "account_address", perClient);

  const perAccount = await takeRateLimit(c.env, LOGIN_PER_ACCOUNT, email);
  if (!perAccount.allowed && !(await signedInFrom(c, email, address))) throw await auditedRefusal(c, email, "account", perAccount);
}

/** After a successful login: the client's failures on this account are forgiven (not the account's global count). */
export async function forgetLoginFailures(c: Context<AppEnv>, email: string): Promise<void> {
  await resetRateLimit(c.env, LOGIN_PER_ACCOUNT_AND_ADDRESS, accountAddressKey(email, clientIpKey(c.get("meta"))));
}

/** Address keys hold no spaces and validated emails none either, so the pair is unambiguous. */
function accountAddressKey(email: string, address: string): string {
  return `${address} ${email}`;
}

/** Whether the account signed in from this client address (same key, so the same /64) within a session's lifetime. */
async function signedInFrom(c: Context<AppEnv>, email: string, address: string): Promise<boolean> {
  const addresses = await signInAddressesSince(c.get("db"), email, Date.now() - SESSION_TTL_MS);
  return addresses.some((ip) => addressKey(ip) === address);
}

/** The 429 for a refused login attempt, recorded with the limit that refused it. */
async function auditedRefusal(
  c: Context<AppEnv>,
  email: string,
  limit: "account" | "account_address",
  decision: WindowDecision,
): Promise<ApiError> {
  await c.get("audit").record({ type: "login.rate_limited", subject: await emailSubject(email), details: { limit } });
  return rateLimited(decision);
}
