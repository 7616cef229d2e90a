import { and, eq, gt, sql } from "drizzle-orm";
import type { Database } from "./client";
import { preparedPerDatabase } from "./prepared";
import { pqcReferences } from "./schema";

/** Stores the token a reference stands for, under the reference's hash, until `expiresAt` (ms). */
export async function insertReference(
  db: Database,
  row: { referenceHash: string; token: string; jti: string; expiresAt: number },
): Promise<void> {
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
export async function findLiveReferenceToken(db: Database, referenceHash: string, now = Date.now()): Promise<string | undefined> {
  return (await liveReferenceQuery(db).get({ referenceHash, now }))?.token;
}
