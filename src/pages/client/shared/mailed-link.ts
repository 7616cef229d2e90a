import { byId, say, sayFailed } from "./dom";
import { takeFromFragment } from "./fragment";
import { send } from "./request";

/**
 * The token a mailed link (src/mail/messages.ts) carries in its fragment, which no server sees:
 * taken as the page loads, so it leaves the address bar and history at once.
 */
export function takeMailedToken(): string | null {
  return takeFromFragment("token");
}

/**
 * Posts a mailed link's token, with the page's other fields, to its route, and says in the page's
 * `#status` how that went (`data-done` is the outcome). True once the API accepted it.
 */
export async function redeemMailedToken(
  token: string | null,
  path: string,
  fields: Record<string, string>,
  sentences: { done: string; notDone: string },
): Promise<boolean> {
  const status = byId("status");
  if (!token) {
    say(status, "This link carries no token. Open the link from the email again.", "error");
    return false;
  }
  const result = await send("POST", path, { token, ...fields });
  if (result.ok) say(status, sentences.done, "ok");
  else sayFailed(status, result, sentences.notDone);
  status.dataset.done = String(result.ok);
  return result.ok;
}
