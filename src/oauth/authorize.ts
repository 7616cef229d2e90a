import type { Database } from "../db/client";
import type { SessionRow, UserRow } from "../db/schema";
import { type AuthorizeRequest, authorizationResponse } from "./authorize-request";
import { issueCode } from "./codes";
import { hasConsent, issueConsentTicket } from "./consent";

/**
 * `prompt=login` asks the person to sign in again: a sign-in within this window counts, so the
 * request that comes back from the sign-in page goes through instead of looping. `max_age` below it
 * is held to it too, and the ID token's `auth_time` says exactly when the sign-in was.
 */
export const FRESH_SIGN_IN_SECONDS = 60;

export type AuthorizeOutcome = { next: "redirect"; location: string } | { next: "sign_in" } | { next: "consent"; ticket: string };

export interface SignedInPerson {
  session: SessionRow;
  user: UserRow;
}

/** The error redirect of a request whose client and redirect URI are known good. */
export function errorRedirect(request: AuthorizeRequest, issuer: string, error: string, description: string): AuthorizeOutcome {
  return {
    next: "redirect",
    location: authorizationResponse(request.redirectUri, issuer, request.state, { error, error_description: description }),
  };
}

/**
 * What an authorization request leads to, for the person signed in (or nobody): sign-in first,
 * the consent page, or the redirect with a code or an error. `consented` is true when the request
 * comes back from the consent page approved.
 */
export async function decideAuthorization(
  db: Database,
  issuer: string,
  request: AuthorizeRequest,
  person: SignedInPerson | undefined,
  query: string,
  consented = false,
): Promise<AuthorizeOutcome> {
  const none = request.prompts.has("none");
  if (!person) return none ? errorRedirect(request, issuer, "login_required", "Nobody is signed in.") : { next: "sign_in" };

  const authTime = Math.floor(person.session.authenticatedAt / 1000);
  const age = Math.floor(Date.now() / 1000) - authTime;
  const loginWindow = request.prompts.has("login") ? FRESH_SIGN_IN_SECONDS : undefined;
  const maxAge = request.maxAgeSeconds === undefined ? loginWindow : Math.max(request.maxAgeSeconds, FRESH_SIGN_IN_SECONDS);
  if (!consented && maxAge !== undefined && age > Math.min(maxAge, loginWindow ?? maxAge)) {
    return none ? errorRedirect(request, issuer, "login_required", "The sign-in is too old for this request.") : { next: "sign_in" };
  }

  if (!consented && !request.client.firstParty) {
    const remembered = await hasConsent(db, person.user.id, request.client.id, request.scope);
    if (!remembered || request.prompts.has("consent")) {
      if (none) return errorRedirect(request, issuer, "consent_required", "The person has not consented to this app.");
      return { next: "consent", ticket: await issueConsentTicket(db, person.session.id, request.client.id, query) };
    }
  }

  const code = await issueCode(db, request, {
    userId: person.user.id,
    sessionId: person.session.id,
    authTime,
    amr: person.session.amr,
  });
  return { next: "redirect", location: authorizationResponse(request.redirectUri, issuer, request.state, { code }) };
}
