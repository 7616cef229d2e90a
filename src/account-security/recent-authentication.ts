import type { Principal } from "../credentials/principal";
import { ApiError } from "../errors";

/**
 * How long a sign-in or re-authentication lets a session plant or remove a way in (a passkey, TOTP,
 * an API key, a provider link): GitHub's "sudo mode" idea, and OWASP ASVS 5.0's re-authentication
 * before sensitive changes. A stolen access token or cookie alone is then not enough to stay in the
 * account after its owner resets the password, unless it was stolen within this window.
 */
export const RECENT_AUTHENTICATION_SECONDS = 10 * 60;

/**
 * Refuses (401 `reauthentication_required`, RFC 9470's `insufficient_user_authentication` with
 * `max_age`) a caller whose session was not authenticated within the window, and anything that is
 * not a person's session at all. The client proves it again with `POST /api/auth/reauthenticate`.
 */
export function assertRecentAuthentication(principal: Principal, now = Date.now()): void {
  if (principal.kind !== "access_token" && principal.kind !== "session_cookie") {
    throw new ApiError("forbidden", "This change needs a person's session, not a key or a token for a service.");
  }
  if (now - principal.authenticatedAt <= RECENT_AUTHENTICATION_SECONDS * 1000) return;
  throw new ApiError(
    "reauthentication_required",
    "Confirm it's you: sign in again or send your password, an authenticator code or a passkey to POST /api/auth/reauthenticate, then retry.",
    {
      "WWW-Authenticate": `Bearer error="insufficient_user_authentication", error_description="A recent sign-in is required", max_age=${RECENT_AUTHENTICATION_SECONDS}`,
    },
  );
}
