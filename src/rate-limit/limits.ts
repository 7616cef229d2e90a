import type { RequestMeta } from "../audit/record";
import type { Bindings } from "../env";
import { ApiError } from "../errors";

/** A named limit: at most `limit` attempts per `windowSeconds` for one key. */
export interface RateLimitRule {
  name: string;
  limit: number;
  windowSeconds: number;
}

/** Attempts on one account: 5 in 15 minutes, then locked until the window ends; a success clears it. */
export const LOGIN_PER_ACCOUNT: RateLimitRule = { name: "login-account", limit: 5, windowSeconds: 15 * 60 };
/** Attempts from one IP across all accounts (credential stuffing). */
export const LOGIN_PER_IP: RateLimitRule = { name: "login-ip", limit: 30, windowSeconds: 5 * 60 };
export const REGISTER_PER_IP: RateLimitRule = { name: "register-ip", limit: 10, windowSeconds: 60 * 60 };
export const REFRESH_PER_IP: RateLimitRule = { name: "refresh-ip", limit: 120, windowSeconds: 60 };

/** Provider sign-ins started from one IP: each stores a flow row for 10 minutes. */
export const PROVIDER_START_PER_IP: RateLimitRule = { name: "provider-start-ip", limit: 30, windowSeconds: 10 * 60 };

/** The key per-IP limits count under: the client address, as the audit trail records it. */
export function clientIpKey(meta: RequestMeta): string {
  return meta.ip ?? "unknown";
}

function limiterFor(env: Bindings, rule: RateLimitRule, key: string) {
  return env.LIMITER.get(env.LIMITER.idFromName(`${rule.name}:${key}`));
}

/** Counts one attempt against `rule` for `key`; throws a 429 with Retry-After when over the limit. */
export async function consumeRateLimit(env: Bindings, rule: RateLimitRule, key: string): Promise<void> {
  const decision = await limiterFor(env, rule, key).consume(rule.limit, rule.windowSeconds);
  if (!decision.allowed) {
    throw new ApiError("rate_limited", "Too many attempts; try again later.", {
      "Retry-After": String(decision.retryAfterSeconds),
    });
  }
}

export async function resetRateLimit(env: Bindings, rule: RateLimitRule, key: string): Promise<void> {
  await limiterFor(env, rule, key).reset();
}

/** Key creation per account: a stolen session cannot mint keys by the thousand. */
export const API_KEY_CREATION_PER_USER: RateLimitRule = { name: "api-key-create", limit: 20, windowSeconds: 60 * 60 };

/** PQC token issuance per caller; every token costs a KMS call, and KMS has an account-wide quota. */
export const PQC_ISSUE_PER_CALLER: RateLimitRule = { name: "pqc-issue", limit: 60, windowSeconds: 60 };
