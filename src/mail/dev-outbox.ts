import { desc, eq } from "drizzle-orm";
import type { Database } from "../db/client";
import { devOutbox } from "../db/schema";
import type { MailMessage } from "./message";

/** Keeps a message the dev outbox transport "sent". */
export async function insertOutboxMessage(db: Database, message: MailMessage): Promise<void> {
  await db.insert(devOutbox).values({
    id: crypto.randomUUID(),
    recipient: message.to,
    subject: message.subject,
    text: message.text,
    html: message.html,
    createdAt: Date.now(),
  });
}

/** The messages sent to one address, newest first, at most `limit`. */
export function outboxMessagesTo(db: Database, recipient: string, limit: number) {
  return db.select().from(devOutbox).where(eq(devOutbox.recipient, recipient)).orderBy(desc(devOutbox.createdAt)).limit(limit).all();
}
