import { and, desc, eq, gt, isNull, lt, or, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { pqcKeys } from "../db/schema";
import type { AkpJwk } from "./akp";

/** A key that stops verifying at `retiresAt` (ms). */
export interface RetiringKey {
  kid: string;
  jwk: AkpJwk;
  retiresAt: number;
}

/**
 * Records `jwk` as the signer's current key. A key seen for the first time becomes current, and
 * every key published before it that was still current retires `overlapMs` from now. A key already
 * known changes nothing, so an isolate still holding an older key (a gradual deployment, a late
 * `waitUntil`) can never demote a newer one: rotation only moves forward.
 *
 * One batch, so the new key and the old keys' retirement are written together or not at all.
 * Returns the keys this call retired (none when another isolate adopted the key first).
 */
export async function adoptSigningKey(db: Database, jwk: AkpJwk, now: number, overlapMs: number): Promise<RetiringKey[]> {
  const publishedAtOfNewKey = sql`(select ${pqcKeys.publishedAt} from ${pqcKeys} where ${pqcKeys.kid} = ${jwk.kid})`;
  const [, retired] = await db.batch([
    db
      .insert(pqcKeys)
      .values({ kid: jwk.kid, jwk: JSON.stringify(jwk), publishedAt: now, retiresAt: null })
      .onConflictDoNothing(),
    db
      .update(pqcKeys)
      .set({ retiresAt: now + overlapMs })
      .where(and(isNull(pqcKeys.retiresAt), lt(pqcKeys.publishedAt, publishedAtOfNewKey)))
      .returning(),
  ]);
  return retired.map(retiringKey);
}

/**
 * Keys whose retirement time is after `since`, with their JWKs: with `since` = now, the keys in
 * their overlap (the JWKS still publishes them); with an earlier `since`, also the recently retired
 * ones whose KV marker must stay until their cached JWK has expired.
 */
export async function retiredKeysSince(db: Database, since: number): Promise<RetiringKey[]> {
  return (await db.select().from(pqcKeys).where(gt(pqcKeys.retiresAt, since))).map(retiringKey);
}

/** When `kid` stops verifying (ms); null while it is current, and for a key not recorded yet (a rotation under way). */
export async function keyRetirement(db: Database, kid: string): Promise<number | null> {
  const row = await db.select({ retiresAt: pqcKeys.retiresAt }).from(pqcKeys).where(eq(pqcKeys.kid, kid)).get();
  return row?.retiresAt ?? null;
}

/** A key for the JWKS: `retiresAt` null while it is current. */
export interface PublishableKey {
  kid: string;
  jwk: AkpJwk;
  retiresAt: number | null;
}

/**
 * The keys that still verify at `now`, the current one first (then the others newest first), and
 * the key `kid` whatever its state, so that the caller can tell a retired key from one not recorded.
 */
export async function keysToPublish(db: Database, now: number, kid: string): Promise<PublishableKey[]> {
  const rows = await db
    .select()
    .from(pqcKeys)
    .where(or(isNull(pqcKeys.retiresAt), gt(pqcKeys.retiresAt, now), eq(pqcKeys.kid, kid)))
    .orderBy(sql`${pqcKeys.retiresAt} is not null`, desc(pqcKeys.publishedAt));
  return rows.map((row) => ({ kid: row.kid, jwk: JSON.parse(row.jwk) as AkpJwk, retiresAt: row.retiresAt }));
}

function retiringKey(row: typeof pqcKeys.$inferSelect): RetiringKey {
  return { kid: row.kid, jwk: JSON.parse(row.jwk) as AkpJwk, retiresAt: row.retiresAt! };
}
