import { and, eq, gt, isNull } from "drizzle-orm";
import { sha256Hex } from "../crypto/digest";
import { randomBase64Url } from "../crypto/random";
import type { Database } from "../db/client";
import { type EmailTokenRow, emailTokens } from "../db/schema";

export type EmailTokenPurpose = EmailTokenRow["purpose"];

/** How long each kind of mailed token works (issue 16: verification 24 h, reset 15 minutes). */
export const EMAIL_TOKEN_TTL_MS: Record<EmailTokenPurpose, number> = {
  verify_email: 24 * 60 * 60 * 1000,
  reset_password: 15 * 60 * 1000,
};

/** 32 random bytes, base64url: 43 characters. */
const EMAIL_TOKEN_BYTES = 32;
export const EMAIL_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/**
 * Issues a token for `purpose` to the user's current address. Earlier unused tokens of the same
 * purpose die in the same transaction, so only the latest mail works.
 */
export async function issueEmailToken(db: Database, purpose: EmailTokenPurpose, user: { id: string; email: string }): Promise<string> {
  const token = randomBase64Url(EMAIL_TOKEN_BYTES);
  const now = Date.now();
  await db.batch([
    db
      .update(emailTokens)
      .set({ usedAt: now })
      .where(and(eq(emailTokens.userId, user.id), eq(emailTokens.purpose, purpose), isNull(emailTokens.usedAt))),
    db.insert(emailTokens).values({
      tokenHash: await sha256Hex(token),
      purpose,
      userId: user.id,
      email: user.email,
      createdAt: now,
      expiresAt: now + EMAIL_TOKEN_TTL_MS[purpose],
    }),
  ]);
  return token;
}

/** The live (unused, unexpired) token row for a presented token of this purpose, without using it. */
export async function findLiveEmailToken(db: Database, purpose: EmailTokenPurpose, token: string): Promise<EmailTokenRow | undefined> {
  if (!EMAIL_TOKEN_PATTERN.test(token)) return undefined;
  return db
    .select()
    .from(emailTokens)
    .where(
      and(
        eq(emailTokens.tokenHash, await sha256Hex(token)),
        eq(emailTokens.purpose, purpose),
        isNull(emailTokens.usedAt),
        gt(emailTokens.expiresAt, Date.now()),
      ),
    )
    .get();
}

/**
 * The conditional update that uses a token, for a batch: it matches only while the token is still
 * unused and unexpired, so of two concurrent uses exactly one claims it (`.returning` says which).
 */
export function claimEmailTokenStatement(db: Database, row: Pick<EmailTokenRow, "tokenHash" | "purpose">, at: number) {
  return db
    .update(emailTokens)
    .set({ usedAt: at })
    .where(
      and(
        eq(emailTokens.tokenHash, row.tokenHash),
        eq(emailTokens.purpose, row.purpose),
        isNull(emailTokens.usedAt),
        gt(emailTokens.expiresAt, at),
      ),
    )
    .returning({ userId: emailTokens.userId });
}
