import { confirmIdentity } from "./confirm-identity";
import { type ApiResult, errorCode, send } from "./request";

/**
 * A call from a page for a signed-in person, to the same JSON routes (and error envelope) API clients
 * use. A sensitive change (a passkey, TOTP, an API key, a linked provider) needs a recent sign-in: the
 * API answers `reauthentication_required`, the person confirms it's them in a dialog, and the call is
 * retried once. Pages without a session call `send()`, which this wraps: nothing they do needs one.
 */
export async function api<Body = unknown>(method: string, path: string, body?: unknown): Promise<ApiResult<Body>> {
  const result = await send<Body>(method, path, body);
  if (errorCode(result) !== "reauthentication_required" || !(await confirmIdentity())) return result;
  return send<Body>(method, path, body);
}
