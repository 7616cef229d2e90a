import type { Context } from "hono";
import type { AppEnv } from "../context";
import type { AuthEvent } from "./event";

export const RECEIPT_HEADER = "X-Heady-Receipt";

/** Records an event that gets a trust receipt and hands the receipt back on the response. */
export async function recordWithReceiptHeader(c: Context<AppEnv>, event: AuthEvent): Promise<void> {
  const receipt = await c.get("audit").recordWithReceipt(event);
  if (receipt) c.header(RECEIPT_HEADER, receipt);
}
