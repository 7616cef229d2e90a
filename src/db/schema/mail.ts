import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** Mail the dev outbox transport "sent" (local runs only: npm run dev and the tests; a deployment refuses that transport). */
export const devOutbox = sqliteTable(
  "dev_outbox",
  {
    id: text("id").primaryKey(),
    recipient: text("recipient").notNull(),
    subject: text("subject").notNull(),
    text: text("text").notNull(),
    html: text("html").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (table) => [index("dev_outbox_recipient_idx").on(table.recipient, table.createdAt)],
);
