import { and, eq, gt, sql } from "drizzle-orm";
import { sha256Hex } from "../crypto/digest";
import { randomBase64Url } from "../crypto/random";
import type { Database } from "../db/client";
import { preparedPerDatabase } from "../db/prepared";
import { pqcReferences } from "../db/schema";

/** 32 random bytes, base64url: 43 characters instead of a ~4.9 KB token. */
export const REFERENCE_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/**
 * Stores a token under the hash of a new reference, in D1, before the reference is handed out, so
 * the next request can resolve it wherever it lands. Only the holder of the reference can find it.
 */
export async function createReference(db: Database, token: string, claims: { jti: string; exp: number }): Promise<string> {
  const reference = randomBase64Url(32);
  await insertReference(db, { referenceHash: await sha256Hex(reference), token, jti: claims.jti, expiresAt: claims.exp * 1000 });
  return reference;
}

/**
 * The token a reference stands for, while its row lives (until the token's `exp`). The one lookup
 * every reader goes through. The caller must still verify it as a token.
 */
export async function resolveReference(db: Database, reference: string): Promise<string | undefined> {
  if (!REFERENCE_PATTERN.test(reference)) return undefined;
  return findLiveReferenceToken(db, await sha256Hex(reference));
}

/** Stores the token a reference stands for, under the reference's hash, until `expiresAt` (ms). */
async function insertReference(db: Database, row: { referenceHash: string; token: string; jti: string; expiresAt: number }): Promise<void> {
  await db.insert(pqcReferences).values({ ...row, createdAt: Date.now() });
}

const liveReferenceQuery = preparedPerDatabase((db) =>
  db
    .select({ token: pqcReferences.token })
    .from(pqcReferences)
    .where(and(eq(pqcReferences.referenceHash, sql.placeholder("referenceHash")), gt(pqcReferences.expiresAt, sql.placeholder("now"))))
    .prepare(),
);

/** The token stored under a reference hash, while its row has not expired. */
async function findLiveReferenceToken(db: Database, referenceHash: string, now = Date.now()): Promise<string | undefined> {
  return (await liveReferenceQuery(db).get({ referenceHash, now }))?.token;
}
