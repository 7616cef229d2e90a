import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { mfaChallengeResponse, mfaMethods } from "../account-security/mfa-challenge";
import { MfaChallenge } from "../account-security/schemas";
import type { AppEnv } from "../context";
import { ROUTE_CREDENTIALS } from "../credentials/route-credentials";
import { sessionPrincipal } from "../credentials/session-principal";
import type { Config } from "../env";
import { ApiError } from "../errors";
import { PROVIDER_SIGN_IN } from "../identity/authentication-methods";
import { SessionTokens } from "../identity/schemas";
import { findLiveSession, issueFirstRefreshToken } from "../identity/sessions";
import { sessionTokens } from "../identity/sign-in";
import { findUserById, hasPassword } from "../identity/users";
import { authenticate } from "../middleware/authenticate";
import { requireRecentAuthentication } from "../middleware/require-recent-authentication";
import { validationHook } from "../middleware/validation";
import { beginFlow } from "../providers/flow";
import { consumeSignInTicket } from "../providers/flow-store";
import { listIdentities, unlinkIdentity } from "../providers/identities";
import { AuthorizationUrl, IdentityList, IdentityParam, ProviderList, StartBody, StartQuery, TicketBody } from "../providers/schemas";
import { errorResponses, jsonBody, jsonResponse } from "../schemas/common";

/** Sign-in with OAuth/OIDC providers (the callback itself is in provider-callback.ts, ahead of CORS). */
export const providerRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

const TAG = ["Sign-in providers"];
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The enabled providers as `/list` answers them; the hosted sign-in page renders the same buttons. */
export function enabledProviders(config: Config) {
  return [...config.providers.enabled.values()].map(({ definition }) => ({
    id: definition.id,
    name: definition.name,
    protocol: definition.protocol,
    pkce: definition.pkce,
    startUrl: `/api/provider/start?provider=${definition.id}`,
  }));
}

providerRoutes.openapi(
  createRoute({
    method: "get",
    path: "/list",
    tags: TAG,
    summary: "The providers this deployment has enabled",
    responses: { 200: jsonResponse(ProviderList, "Enabled providers, for the sign-in page's buttons") },
  }),
  (c) => c.json({ providers: enabledProviders(c.get("config")) }, 200),
);

providerRoutes.openapi(
  createRoute({
    method: "post",
    path: "/start",
    tags: TAG,
    summary: "Start a provider sign-in",
    description:
      "Answers the provider's authorization URL (code flow; PKCE S256 where the provider supports it; `state`; `nonce` for OIDC) and sets the short-lived `__Host-heady_oauth` cookie that binds the flow to this browser. `redirectTo` must be exactly one of the allowlisted URLs.",
    request: { body: jsonBody(StartBody) },
    responses: { 200: jsonResponse(AuthorizationUrl, "Send the browser here"), ...errorResponses(400, 404) },
  }),
  async (c) => {
    const { provider, redirectTo } = c.req.valid("json");
    return c.json({ authorizationUrl: (await beginFlow(c, provider, redirectTo, null)).href }, 200);
  },
);

providerRoutes.openapi(
  createRoute({
    method: "get",
    path: "/start",
    tags: TAG,
    summary: "Start a provider sign-in (for a page's button)",
    description: "As the POST form, but answers 302 to the provider.",
    request: { query: StartQuery },
    responses: { 302: { description: "To the provider's authorization endpoint" }, ...errorResponses(400, 404) },
  }),
  async (c) => {
    const { provider, redirectTo } = c.req.valid("query");
    return c.redirect((await beginFlow(c, provider, redirectTo, null)).href, 302);
  },
);

providerRoutes.openapi(
  createRoute({
    method: "post",
    path: "/tokens",
    tags: TAG,
    summary: "Collect the tokens of a provider sign-in",
    description:
      "The callback redirects to `redirectTo#ticket=…`; the page posts that ticket here (once, within 60 s) and gets the same answer a password login gives: tokens, or, when the account has a second factor, `{mfaRequired, mfaToken, expiresIn, methods}`, finished by `POST /api/auth/login/mfa` (or `…/login/mfa/passkey`). Tokens never travel in a URL.",
    request: { body: jsonBody(TicketBody) },
    responses: {
      200: jsonResponse(z.union([SessionTokens, MfaChallenge]), "Signed in, or, with MFA on, the challenge for /api/auth/login/mfa"),
      ...errorResponses(400, 401),
    },
  }),
  async (c) => {
    const db = c.get("db");
    const ticket = await consumeSignInTicket(db, c.req.valid("json").ticket);
    if (ticket && "userId" in ticket) {
      const user = await findUserById(db, ticket.userId);
      const methods = user && user.disabledAt === null ? await mfaMethods(c, user.id) : [];
      // Without a second factor left (removed within the ticket's minute), the sign-in starts over.
      if (user && methods.length > 0) return c.json(await mfaChallengeResponse(c, user, methods, PROVIDER_SIGN_IN), 200);
    }
    const live = ticket && "sessionId" in ticket ? await findLiveSession(db, ticket.sessionId) : undefined;
    if (!live) throw new ApiError("invalid_token", "The ticket is unknown, expired or already used.");
    return c.json(await sessionTokens(c, live.user, live.session, await issueFirstRefreshToken(db, live.session)), 200);
  },
);

providerRoutes.openapi(
  createRoute({
    method: "get",
    path: "/identities",
    tags: TAG,
    summary: "The caller's linked provider identities",
    middleware: [authenticate(ROUTE_CREDENTIALS.identities)] as const,
    responses: { 200: jsonResponse(IdentityList, "Identities, oldest first"), ...errorResponses(401, 403) },
  }),
  async (c) => {
    const principal = sessionPrincipal(c);
    const db = c.get("db");
    const user = await findUserById(db, principal.userId);
    if (!user) throw new ApiError("unauthorized", "The account no longer exists.");
    const identities = (await listIdentities(db, user.id)).map((identity) => ({
      id: identity.id,
      provider: identity.provider,
      subject: identity.subject,
      email: identity.email,
      emailVerified: identity.emailVerified,
      createdAt: new Date(identity.createdAt).toISOString(),
      lastSignInAt: iso(identity.lastSignInAt),
    }));
    return c.json({ identities, hasPassword: hasPassword(user) }, 200);
  },
);

providerRoutes.openapi(
  createRoute({
    method: "post",
    path: "/link",
    tags: TAG,
    summary: "Link a provider to the signed-in account",
    description:
      "Starts a flow like /start; its callback links the identity to the caller instead of signing in, then redirects to `redirectTo`.",
    middleware: [authenticate(ROUTE_CREDENTIALS.identities), requireRecentAuthentication()] as const,
    request: { body: jsonBody(StartBody) },
    responses: { 200: jsonResponse(AuthorizationUrl, "Send the browser here"), ...errorResponses(400, 401, 403, 404) },
  }),
  async (c) => {
    const principal = sessionPrincipal(c);
    const { provider, redirectTo } = c.req.valid("json");
    return c.json(
      { authorizationUrl: (await beginFlow(c, provider, redirectTo, { userId: principal.userId, sessionId: principal.sessionId })).href },
      200,
    );
  },
);

providerRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/identities/{id}",
    tags: TAG,
    summary: "Unlink a provider identity",
    description: "Refused with 409 when it is the account's last way to sign in (no password and no other identity).",
    middleware: [authenticate(ROUTE_CREDENTIALS.identities), requireRecentAuthentication()] as const,
    request: { params: IdentityParam },
    responses: { 204: { description: "Unlinked" }, ...errorResponses(400, 401, 403, 404, 409) },
  }),
  async (c) => {
    const principal = sessionPrincipal(c);
    const { id } = c.req.valid("param");
    const outcome = await unlinkIdentity(c.get("db"), principal.userId, id);
    if (outcome === "not_found") throw new ApiError("not_found", "No such identity on this account.");
    if (outcome === "last_sign_in_method")
      throw new ApiError("conflict", "This is the account's last way to sign in; add another before removing it.");
    await c.get("audit").record({ type: "provider.unlinked", subject: principal.userId, details: { identityId: id } });
    return c.body(null, 204);
  },
);
