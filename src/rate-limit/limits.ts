import type { RequestMeta } from "../audit/record";
import type { Bindings } from "../env";
import { ApiError, UnavailableError } from "../errors";
import { addressKey } from "./client-address";
import { limiterObject, type WindowDecision } from "./limiter";

/** A named limit: at most `limit` attempts per `windowSeconds` for one key. */
export interface RateLimitRule {
  name: string;
  limit: number;
  windowSeconds: number;
}

/**
 * A token bucket: a burst of `burst` attempts at once, then `perMinute` a minute (refilled
 * continuously, up to `burst` again), for callers that legitimately come in bursts.
 */
export interface TokenBucketRule {
  name: string;
  burst: number;
  perMinute: number;
}

/**
 * Attempts on one account from one client (address, IPv6 by /64): 5 in 15 minutes, then that
 * client is locked out of that account until the window ends; a success clears it. Failures from
 * elsewhere never lock the owner out (docs/api.md, "Login throttling").
 */
export const LOGIN_PER_ACCOUNT_AND_ADDRESS: RateLimitRule = { name: "login-account-address", limit: 5, windowSeconds: 15 * 60 };
/**
 * Attempts on one account from everywhere: at most 100 an hour, NIST SP 800-63B's ceiling for
 * consecutive failures, so guessing spread over many addresses stays bounded (2,400 a day against
 * passwords that are never among the 3,000 most common). Past it only clients the owner signed in
 * from before get through; a success does not reset it.
 */
export const LOGIN_PER_ACCOUNT: RateLimitRule = { name: "login-account", limit: 100, windowSeconds: 60 * 60 };
/** Attempts from one IP across all accounts (credential stuffing). */
export const LOGIN_PER_IP: RateLimitRule = { name: "login-ip", limit: 30, windowSeconds: 5 * 60 };
export const REGISTER_PER_IP: RateLimitRule = { name: "register-ip", limit: 10, windowSeconds: 60 * 60 };
export const REFRESH_PER_IP: RateLimitRule = { name: "refresh-ip", limit: 120, windowSeconds: 60 };

/** Guest widget sessions started from one IP: each is a token anyone may ask for without a credential. */
export const WIDGET_GUEST_PER_IP: RateLimitRule = { name: "widget-guest-ip", limit: 20, windowSeconds: 15 * 60 };

/** Provider sign-ins started from one IP: each stores a flow row for 10 minutes. */
export const PROVIDER_START_PER_IP: RateLimitRule = { name: "provider-start-ip", limit: 30, windowSeconds: 10 * 60 };

/** The key every per-IP limit counts under: the client address, IPv6 by its /64 (see client-address.ts). */
export function clientIpKey(meta: RequestMeta): string {
  return addressKey(meta.ip);
}

function limiterFor(env: Bindings, rule: RateLimitRule | TokenBucketRule, key: string) {
  return limiterObject(env, `${rule.name}:${key}`);
}

/** A limiter object that cannot answer (overloaded, reset, unreachable) is an outage: 503, never a silent pass. */
async function askLimiter<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof TypeError) throw error; // a bug of ours in the call, not an outage
    throw new UnavailableError("rate_limiter", `rate limiter failed: ${String(error)}`, { cause: error });
  }
}

/** Counts one attempt against `rule` for `key` and says whether it fits; refused attempts are not counted. */
export function takeRateLimit(env: Bindings, rule: RateLimitRule | TokenBucketRule, key: string): Promise<WindowDecision> {
  return askLimiter(() => {
    const limiter = limiterFor(env, rule, key);
    return "burst" in rule ? limiter.take(rule.burst, rule.perMinute) : limiter.consume(rule.limit, rule.windowSeconds);
  });
}

/** The 429 for a refused attempt, with Retry-After. */
export function rateLimited(decision: WindowDecision): ApiError {
  return new ApiError("rate_limited", "Too many attempts; try again later.", { "Retry-After": String(decision.retryAfterSeconds) });
}

/** Counts one attempt against `rule` for `key`; throws a 429 with Retry-After when over the limit. */
export async function consumeRateLimit(env: Bindings, rule: RateLimitRule | TokenBucketRule, key: string): Promise<void> {
  const decision = await takeRateLimit(env, rule, key);
  if (!decision.allowed) throw rateLimited(decision);
}

export async function resetRateLimit(env: Bindings, rule: RateLimitRule, key: string): Promise<void> {
  await askLimiter(() => limiterFor(env, rule, key).reset());
}

/** Key creation per account: a stolen session cannot mint keys by the thousand. */
export const API_KEY_CREATION_PER_USER: RateLimitRule = { name: "api-key-create", limit: 20, windowSeconds: 60 * 60 };

/** PQC token issuance per caller; every token costs a KMS call, and KMS has an account-wide quota. */
export const PQC_ISSUE_PER_CALLER: RateLimitRule = { name: "pqc-issue", limit: 60, windowSeconds: 60 };

/** Verification mails per account: each one is a message to a real inbox. */
export const VERIFICATION_RESEND_PER_USER: RateLimitRule = { name: "verification-resend", limit: 3, windowSeconds: 60 * 60 };
/** Reset requests per address and per client: bounds the mail one can make someone else receive. */
export const PASSWORD_FORGOT_PER_EMAIL: RateLimitRule = { name: "password-forgot-email", limit: 3, windowSeconds: 15 * 60 };
export const PASSWORD_FORGOT_PER_IP: RateLimitRule = { name: "password-forgot-ip", limit: 10, windowSeconds: 15 * 60 };
/** Presented mailed tokens (verification, reset) per client: 256-bit tokens are not guessable, this bounds the load. */
export const EMAIL_TOKEN_PER_IP: RateLimitRule = { name: "email-token-ip", limit: 30, windowSeconds: 15 * 60 };
/** Passkey sign-in ceremonies from one client: each stores a challenge row and costs a signature check. */
export const PASSKEY_SIGN_IN_PER_IP: RateLimitRule = { name: "passkey-sign-in-ip", limit: 30, windowSeconds: 5 * 60 };
