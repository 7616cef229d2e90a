import { sha256Hex } from "../crypto/digest";

/** How the audit trail names an account by email: a truncated hash, so it holds no typo'd addresses in clear. */
export async function emailSubject(email: string): Promise<string> {
  return `email:${(await sha256Hex(email)).slice(0, 32)}`;
}
