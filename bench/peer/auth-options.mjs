// Better Auth's options for the peer bench, shared by the Worker (bundled into it) and by the
// schema step in index.mjs (which compiles Better Auth's own migration from the same options, so
// the tables in D1 are exactly the ones this configuration expects).
//
// Deliberately the documented minimum: email and password, the D1 binding as the database, and
// everything else at Better Auth's defaults (no cookie cache, no secondary storage, session
// refresh after a day). Two changes, both to keep the comparison about the session check:
// - `/get-session` is left out of Better Auth's rate limiter (its default in production is 100
//   requests per 10 s per address and path, in isolate memory), as our /api/auth/verify has none;
// - telemetry is off (it is off by default too; said here so that it never makes a request).

/**
 * Informative variants, each one documented option away from the defaults (none changes the schema):
 * - `cookie-cache`: `session.cookieCache`, a signed `session_data` cookie that lets get-session
 *   answer without D1 while it is fresh (an hour here, so it never expires during a run);
 * - `joins`: `advanced.database.joins`, the session and its user in one SQL join instead of two
 *   queries (off by default in Better Auth).
 */
export const PEER_VARIANTS = {
  default: {},
  "cookie-cache": { session: { cookieCache: { enabled: true, maxAge: 60 * 60 } } },
  joins: { advanced: { database: { joins: true } } },
};

/**
 * @param {keyof typeof PEER_VARIANTS} [variant]
 * @returns {Omit<import("better-auth").BetterAuthOptions, "database" | "secret" | "baseURL">}
 */
export function peerAuthOptions(variant = "default") {
  const extra = PEER_VARIANTS[variant];
  if (!extra) throw new Error(`unknown peer variant ${variant}`);
  return {
    appName: "HeadyKey peer bench",
    basePath: "/api/auth",
    emailAndPassword: { enabled: true },
    rateLimit: { customRules: { "/get-session": false } },
    telemetry: { enabled: false },
    ...extra,
  };
}
