/**
 * The D1 schema (drizzle), one file per feature that owns the tables. All times are Unix epoch milliseconds.
 * Migrations are generated from it: `npm run db:generate` (drizzle-kit).
 */

export * from "./account-security";
export * from "./api-keys";
export * from "./audit";
export * from "./identity";
export * from "./mail";
export * from "./memory";
export * from "./mesh";
export * from "./oauth";
export * from "./onboarding";
export * from "./pqc";
export * from "./providers";
