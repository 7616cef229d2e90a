import type { Context } from "hono";
import { mfaMethods } from "../account-security/mfa-challenge";
import { recordWithReceiptHeader } from "../audit/receipt-header";
import type { AppEnv } from "../context";
import { randomBase64Url } from "../crypto/random";
import { ApiError, type ErrorCode } from "../errors";
import { PROVIDER_SIGN_IN } from "../identity/authentication-methods";
import { setSessionCookie } from "../identity/session-cookie";
import { createSessionWithoutRefreshToken, findLiveSession } from "../identity/sessions";
import { clientIpKey, consumeRateLimit, PROVIDER_START_PER_IP } from "../rate-limit/limits";
import { type AccountResolution, resolveAccount } from "./accounts";
import { bindBrowser, isSameBrowser } from "./browser-binding";
import { type EnabledProvider, exactRedirectTarget } from "./config";
import { consumeFlow, insertFlow, insertSignInTicket } from "./flow-store";
import {
  authorizationServer,
  authorizationUrl,
  completeAuthorization,
  newFlowSecrets,
  type ProviderFailure,
  ProviderFlowError,
} from "./protocol";

/** The exact redirect URI registered with each provider. */
export function callbackUrl(c: Context<AppEnv>, providerId: string): string {
  return `${c.get("config").providers.publicUrl}/api/provider/callback/${providerId}`;
}

/** Records a refused provider sign-in, then refuses it: every failure is a 4xx (or 502) and an audit event. */
async function refuse(
  c: Context<AppEnv>,
  provider: string,
  reason: ProviderFailure | AccountRefusal | FlowRefusal,
  code: ErrorCode,
  message: string,
  extra: { subject?: string | undefined; detail?: string | undefined } = {},
): Promise<never> {
  await c.get("audit").record({
    type: "provider.login_failed",
    subject: extra.subject,
    details: { provider, reason, ...(extra.detail ? { detail: extra.detail.slice(0, 300) } : {}) },
  });
  throw new ApiError(code, message);
}

type FlowRefusal =
  | "provider_unknown"
  | "redirect_not_allowed"
  | "state_missing"
  | "state_unknown"
  | "provider_mismatch"
  | "browser_mismatch"
  | "link_session_ended"
  | "disabled";

/** Who is linking a provider: the signed-in user, and the session they started the flow in. */
export interface Linker {
  userId: string;
  sessionId: string;
}
type AccountRefusal = Extract<AccountResolution, { outcome: "refused" }>["reason"];

function enabledProvider(c: Context<AppEnv>, providerId: string): EnabledProvider | undefined {
  return c.get("config").providers.enabled.get(providerId);
}

/**
 * Starts a provider sign-in (or, with `linker`, the linking of a provider to a signed-in
 * account): checks `redirectTo` against the allowlist, binds the browser, stores the flow, and
 * answers the provider's authorization URL.
 */
export async function beginFlow(
  c: Context<AppEnv>,
  providerId: string,
  redirectTo: string | undefined,
  linker: Linker | null,
): Promise<URL> {
  const linkUserId = linker?.userId ?? null;
  await consumeRateLimit(c.env, PROVIDER_START_PER_IP, clientIpKey(c.get("meta")));
  const provider = enabledProvider(c, providerId);
  if (!provider)
    return refuse(c, providerId, "provider_unknown", "not_found", "No such provider is enabled.", { subject: linkUserId ?? undefined });
  const { redirectAllowlist } = c.get("config").providers;
  const target = redirectTo ?? redirectAllowlist[0]!;
  // Exact origin and path only: no prefix, no query, no normalisation tricks (RFC 9700 §4.1.3, §4.11).
  if (exactRedirectTarget(target) !== target || !redirectAllowlist.includes(target)) {
    return refuse(c, providerId, "redirect_not_allowed", "invalid_request", "redirectTo is not an allowed URL.", { detail: target });
  }
  let server;
  try {
    server = await authorizationServer(c.get("config"), provider);
  } catch (error) {
    if (!(error instanceof ProviderFlowError)) throw error;
    return refuse(c, providerId, error.reason, "bad_gateway", error.message, { detail: error.detail });
  }
  const secrets = newFlowSecrets(provider);
  const browserHash = await bindBrowser(c, provider.definition.formPost === true);
  await insertFlow(c.get("db"), secrets.state, {
    provider: providerId,
    browserHash,
    codeVerifier: secrets.codeVerifier ?? null,
    nonce: secrets.nonce ?? null,
    redirectTo: target,
    linkUserId,
    linkSessionId: linker?.sessionId ?? null,
  });
  return authorizationUrl(server, provider, callbackUrl(c, providerId), secrets);
}

/** Which status a failed protocol step answers with. */
const FAILURE_CODES: Record<ProviderFailure, ErrorCode> = {
  provider_error: "provider_error",
  issuer_mismatch: "provider_error",
  token_exchange_failed: "provider_error",
  id_token_invalid: "provider_error",
  profile_invalid: "provider_error",
  provider_unreachable: "bad_gateway",
};

const ACCOUNT_REFUSALS: Record<AccountRefusal, { code: ErrorCode; message: string }> = {
  email_missing: { code: "account_link_required", message: "The provider shared no email: sign in another way, then link this provider." },
  email_unverified: {
    code: "account_link_required",
    message:
      "An account with this email exists, and the provider does not vouch for the email: sign in to that account, then link this provider.",
  },
  account_email_unverified: {
    code: "account_link_required",
    message: "An account with this email exists and has not confirmed the address: sign in to that account, then link this provider.",
  },
  identity_taken: { code: "conflict", message: "This provider identity is linked to another account." },
  account_missing: { code: "conflict", message: "The account that started linking no longer exists." },
};

/**
 * Finishes a provider sign-in at the callback: the state is consumed (once), must belong to this
 * provider and this browser, the protocol is checked end to end, and the account is resolved.
 * Then the user is signed in as a password login does (session, cookie, audit event with its
 * receipt), and the browser goes to `redirectTo` with a one-time ticket in the fragment, which the
 * page exchanges for the access and refresh tokens (POST /api/provider/tokens). An account with a
 * second factor stops where a password login stops: no session and no cookie, and the ticket
 * answers the MFA challenge instead of tokens.
 */
export async function finishFlow(c: Context<AppEnv>, providerId: string, callback: URLSearchParams): Promise<Response> {
  const provider = enabledProvider(c, providerId);
  if (!provider) return refuse(c, providerId, "provider_unknown", "not_found", "No such provider is enabled.");
  const state = callback.get("state");
  if (!state) return refuse(c, providerId, "state_missing", "invalid_request", "The callback carries no state.");
  const flow = await consumeFlow(c.get("db"), state);
  if (!flow)
    return refuse(c, providerId, "state_unknown", "invalid_request", "This sign-in is unknown, expired or already used; start again.");
  const subject = flow.linkUserId ?? undefined;
  // A state minted for one provider and presented at another's callback is a mix-up attempt (RFC 9700 §4.4).
  if (flow.provider !== providerId)
    return refuse(c, providerId, "provider_mismatch", "invalid_request", "This sign-in was started with another provider.", { subject });
  if (!(await isSameBrowser(c, flow.browserHash))) {
    return refuse(c, providerId, "browser_mismatch", "invalid_request", "This sign-in was started in another browser; start again here.", {
      subject,
    });
  }

  let profile;
  try {
    const server = await authorizationServer(c.get("config"), provider);
    profile = await completeAuthorization(c.get("config"), server, provider, callbackUrl(c, providerId), callback, {
      state,
      nonce: flow.nonce ?? undefined,
      codeVerifier: flow.codeVerifier ?? undefined,
      startedAt: flow.createdAt,
    });
  } catch (error) {
    if (!(error instanceof ProviderFlowError)) throw error;
    return refuse(c, providerId, error.reason, FAILURE_CODES[error.reason], error.message, { subject, detail: error.detail });
  }

  // A link flow acts for the session that started it, so it ends with that session (sign-out, reset,
  // "sign out everywhere"): a stolen token cannot leave behind a flow that plants an identity later.
  if (flow.linkUserId !== null) {
    const linker = flow.linkSessionId === null ? undefined : await findLiveSession(c.get("db"), flow.linkSessionId);
    if (linker?.user.id !== flow.linkUserId) {
      return refuse(
        c,
        providerId,
        "link_session_ended",
        "unauthorized",
        "The session that started this link has ended; sign in and link again.",
        { subject },
      );
    }
  }

  const account = await resolveAccount(c.get("db"), providerId, profile, flow.linkUserId);
  if (account.outcome === "refused") {
    const { code, message } = ACCOUNT_REFUSALS[account.reason];
    return refuse(c, providerId, account.reason, code, message, { subject });
  }
  if (account.outcome === "disabled") {
    return refuse(c, providerId, "disabled", "forbidden", "This account is disabled.", { subject: account.user.id });
  }
  if (account.outcome === "linked") {
    await c.get("audit").record({ type: "provider.linked", subject: account.user.id, details: { provider: providerId } });
    return c.redirect(flow.redirectTo, 302);
  }
  if (account.created)
    await c.get("audit").record({ type: "user.registered", subject: account.user.id, details: { provider: providerId } });
  else if (account.linked)
    await c
      .get("audit")
      .record({ type: "provider.linked", subject: account.user.id, details: { provider: providerId, byVerifiedEmail: true } });

  const db = c.get("db");
  const ticket = randomBase64Url(32);
  // The provider is the first factor only, as a password is: the second is asked for at the ticket.
  if ((await mfaMethods(c, account.user.id)).length > 0) {
    await insertSignInTicket(db, ticket, { userId: account.user.id });
    return c.redirect(`${flow.redirectTo}#ticket=${ticket}`, 302);
  }
  const { session, cookieValue } = await createSessionWithoutRefreshToken(db, {
    userId: account.user.id,
    client: c.get("meta"),
    amr: PROVIDER_SIGN_IN,
  });
  setSessionCookie(c, cookieValue);
  await insertSignInTicket(db, ticket, { sessionId: session.id });
  await recordWithReceiptHeader(c, {
    type: "login.succeeded",
    subject: account.user.id,
    details: { method: "provider", provider: providerId },
  });
  return c.redirect(`${flow.redirectTo}#ticket=${ticket}`, 302);
}
