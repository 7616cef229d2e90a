import { type SQL, sql } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import { ApiError } from "../errors";

/** A keyset position: rows are ordered by (created_at, id), so equal timestamps still page exactly. */
export interface Cursor {
  createdAt: number;
  id: string;
}

export function encodeCursor(row: Cursor): string {
  return `${row.createdAt}_${row.id}`;
}

/** Parses a cursor from a query string; a malformed one is the caller's mistake (400). */
export function decodeCursor(text: string | undefined): Cursor | undefined {
  if (text === undefined) return undefined;
  const match = /^(\d{1,16})_([0-9a-f-]{36})$/.exec(text);
  if (!match) throw new ApiError("invalid_request", "cursor: not a cursor from a previous page");
  return { createdAt: Number(match[1]), id: match[2]! };
}

/** The condition for rows after (`asc`) or before (`desc`) the cursor. */
export function afterCursor(
  columns: { createdAt: SQLiteColumn; id: SQLiteColumn },
  cursor: Cursor | undefined,
  direction: "asc" | "desc",
): SQL | undefined {
  if (!cursor) return undefined;
  return direction === "asc"
    ? sql`(${columns.createdAt}, ${columns.id}) > (${cursor.createdAt}, ${cursor.id})`
    : sql`(${columns.createdAt}, ${columns.id}) < (${cursor.createdAt}, ${cursor.id})`;
}

/** The page's rows and the cursor of the next page, from a query that fetched `limit + 1` rows. */
export function page<T extends Cursor>(rows: T[], limit: number): { rows: T[]; nextCursor: string | null } {
  const more = rows.length > limit;
  const pageRows = more ? rows.slice(0, limit) : rows;
  return { rows: pageRows, nextCursor: more ? encodeCursor(pageRows[pageRows.length - 1]!) : null };
}
