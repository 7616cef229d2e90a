import type { ApiResult } from "./request";

/** What a person reads for a failed call: the API's message, or a sentence of our own for the codes a person meets. */
export function explain(result: ApiResult): string {
  if (result.status === 0) return "HeadyKey could not be reached. Check your connection and try again.";
  const error = result.ok ? undefined : result.body?.error;
  if (!error) return `Something went wrong (HTTP ${result.status}). Please try again.`;
  switch (error.code) {
    case "rate_limited": {
      const minutes = Math.max(1, Math.ceil(result.retryAfter / 60));
      return `Too many attempts. Try again in ${minutes}${minutes === 1 ? " minute." : " minutes."}`;
    }
    case "weak_password":
      return `Choose another password. ${error.message}`;
    case "unauthorized":
      return "Your session has ended. Sign in again.";
    case "reauthentication_required":
      return "Confirm it's you to make this change: try again, and enter your password or a code when asked.";
    default:
      return error.message;
  }
}
