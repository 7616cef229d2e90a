import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../context";
import { evictCachedSession, liveSession, liveSessionByCookieHash } from "../credentials/revocable-state";
import { sha256Hex } from "../crypto/digest";
import { fromBase64Url } from "../crypto/encoding";
import { peekHeader, TokenError, verifyJwt } from "../crypto/jwt";
import { renderError } from "../error-handler";
import { ApiError } from "../errors";
import { clearSessionCookie, readSessionCookie } from "../identity/session-cookie";
import { revokeSession } from "../identity/sessions";
import { findUserById } from "../identity/users";
import { decideAuthorization, errorRedirect, type SignedInPerson } from "../oauth/authorize";
import { authorizationResponse, checkAuthorizeRequest, isRefusal } from "../oauth/authorize-request";
import { scopedClaims, scopeSet } from "../oauth/claims";
import { verifyClientAssertion } from "../oauth/client-assertion";
import { authenticateClient } from "../oauth/client-auth";
import { findClient } from "../oauth/clients";
import { recordConsent, redeemConsentTicket } from "../oauth/consent";
import { discoveryDocument } from "../oauth/discovery";
import { OAUTH_AUTHORIZE_PATH, OAUTH_MOUNT, oauthEndpoints } from "../oauth/endpoints";
import { OAuthError } from "../oauth/errors";
import { findAppRefreshToken, revokeRefreshFamily } from "../oauth/refresh-tokens";
import { authorizationCodeGrant, clientCredentialsGrant, type GrantContext, refreshTokenGrant } from "../oauth/token-grants";
import { ACCESS_TOKEN_TYP, ID_TOKEN_TYP, ownTokenKind } from "../oauth/tokens";
import { AuthorizeErrorPage, ConsentPage, SameSiteHopPage } from "../pages/oauth";
import { renderPage } from "../pages/render";
import { SIGN_IN_PAGE_PATH } from "../providers/config";
import { documentOAuthRoutes } from "./oauth-docs";

/**
 * "Sign in with HeadyKey" (docs/oauth.md): discovery, the authorization endpoint and its consent
 * step, and the back-channel endpoints. Off (404) while OIDC_SIGNING_KEYS is not set. Errors are
 * OAuth's own shape (RFC 6749 §5.2), never the API's envelope, since OAuth clients parse it.
 */
export const oauthRoutes = new OpenAPIHono<AppEnv>();

/** Without OIDC_SIGNING_KEYS the provider is off: its routes answer 404 as if they did not exist. */
function assertProviderOn(c: Context<AppEnv>): void {
  if (!c.get("config").oauth) throw new ApiError("not_found", "Sign in with HeadyKey is not configured here.");
}

oauthRoutes.use(`${OAUTH_MOUNT}/*`, async (c, next) => {
  assertProviderOn(c);
  await next();
});

oauthRoutes.onError((error, c) => {
  if (error instanceof OAuthError) return c.json(error.body(), error.status, error.headers);
  return renderError(error, c as Context<AppEnv>);
});

for (const path of ["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"]) {
  oauthRoutes.get(path, (c) => {
    assertProviderOn(c);
    c.header("Cache-Control", "public, max-age=300");
    return c.json(discoveryDocument(c.get("config")), 200);
  });
}

/** The person the session cookie names, read fresh from D1: a code must never come from a revoked session. */
async function signedInPerson(c: Context<AppEnv>): Promise<SignedInPerson | undefined> {
  const value = readSessionCookie(c);
  if (!value) return undefined;
  return liveSessionByCookieHash(c, await sha256Hex(value), "current");
}

const lookupClient = (c: Context<AppEnv>) => (id: string) => findClient(c.get("db"), id);

/** The refusal event of an authorization or token request, counted and kept in the audit trail. */
function recordRefusal(
  c: Context<AppEnv>,
  type: "oauth.authorization_refused" | "oauth.token_refused",
  error: OAuthError,
  clientId?: string,
) {
  return c.get("audit").record({ type, details: { error: error.code, clientId } });
}

oauthRoutes.get(OAUTH_AUTHORIZE_PATH, async (c) => {
  const config = c.get("config");
  const endpoints = oauthEndpoints(config);
  const url = new URL(c.req.url);
  const checked = await checkAuthorizeRequest(url.searchParams, lookupClient(c), endpoints.userinfo);
  if (isRefusal(checked)) {
    await recordRefusal(c, "oauth.authorization_refused", checked.error, url.searchParams.get("client_id") ?? undefined);
    if (checked.to === "page") {
      return renderPage(
        c,
        (nonce) => <AuthorizeErrorPage nonce={nonce} error={checked.error.code} description={checked.error.description} />,
        400,
      );
    }
    const fields = { error: checked.error.code, error_description: checked.error.description };
    return c.redirect(authorizationResponse(checked.redirectUri, endpoints.issuer, checked.state, fields), 302);
  }
  const person = await signedInPerson(c);
  // From another site's redirect the SameSite=Strict cookie stays behind: one hop from this origin brings it (docs/oauth.md).
  if (!person && c.req.header("Sec-Fetch-Site") === "cross-site") {
    return renderPage(c, (nonce) => <SameSiteHopPage nonce={nonce} url={url.toString()} />);
  }
  const outcome = await decideAuthorization(c.get("db"), endpoints.issuer, checked, person, url.search.slice(1));
  return answerAuthorization(c, outcome, checked.client, checked.scope, `${OAUTH_AUTHORIZE_PATH}${url.search}`, person?.user.id);
});

/**
 * Under the pages' `no-referrer`, a browser sends `Origin: null` with a form post (Fetch, "append a
 * request Origin header"), which cors() refuses as foreign. `same-origin` keeps the real Origin on the
 * post back here and still sends no Referer to the app.
 */
const CONSENT_PAGE_HEADERS = { "Referrer-Policy": "same-origin" };

async function answerAuthorization(
  c: Context<AppEnv>,
  outcome: Awaited<ReturnType<typeof decideAuthorization>>,
  client: { id: string; name: string; logoUri: string | null },
  scope: string,
  requestPath: string,
  userId: string | undefined,
  status: 302 | 303 = 302,
) {
  if (outcome.next === "sign_in") return c.redirect(`${SIGN_IN_PAGE_PATH}?return=${encodeURIComponent(requestPath)}`, 302);
  if (outcome.next === "consent") {
    return renderPage(
      c,
      (nonce) => (
        <ConsentPage
          nonce={nonce}
          appName={client.name}
          logoUri={client.logoUri}
          scopes={scope.split(" ")}
          ticket={outcome.ticket}
          action={`${OAUTH_MOUNT}/consent`}
        />
      ),
      200,
      CONSENT_PAGE_HEADERS,
    );
  }
  const issued = new URL(outcome.location).searchParams.has("code");
  await c.get("audit").record({
    type: issued ? "oauth.code_issued" : "oauth.authorization_refused",
    subject: userId,
    details: { clientId: client.id, ...(issued ? { scope } : { error: new URL(outcome.location).searchParams.get("error") }) },
  });
  return c.redirect(outcome.location, status);
}

oauthRoutes.post(`${OAUTH_MOUNT}/consent`, async (c) => {
  const config = c.get("config");
  // Only this origin's own consent form decides: cors() refuses foreign origins, and a post without an Origin is refused here.
  if (c.req.header("Origin") !== config.providers.publicUrl)
    throw new ApiError("forbidden", "The decision must come from the consent page.");
  const person = await signedInPerson(c);
  if (!person) throw new ApiError("unauthorized", "Sign in again, then retry from the app.");
  const form = await c.req.parseBody();
  const ticket = typeof form.ticket === "string" ? form.ticket : "";
  const redeemed = await redeemConsentTicket(c.get("db"), ticket, person.session.id);
  if (!redeemed) throw new ApiError("invalid_request", "This consent page has expired or was already used; start again from the app.");
  const endpoints = oauthEndpoints(config);
  const checked = await checkAuthorizeRequest(new URLSearchParams(redeemed.request), lookupClient(c), endpoints.userinfo);
  if (isRefusal(checked)) throw new ApiError("invalid_request", "The app's request is no longer valid; start again from the app.");
  const requestPath = `${OAUTH_AUTHORIZE_PATH}?${redeemed.request}`;
  if (form.decision !== "approve") {
    await c.get("audit").record({ type: "oauth.consent_denied", subject: person.user.id, details: { clientId: checked.client.id } });
    const denied = errorRedirect(checked, endpoints.issuer, "access_denied", "The person did not allow it.");
    return answerAuthorization(c, denied, checked.client, checked.scope, requestPath, person.user.id, 303);
  }
  await recordConsent(c.get("db"), person.user.id, checked.client.id, checked.scope);
  await c
    .get("audit")
    .record({ type: "oauth.consent_given", subject: person.user.id, details: { clientId: checked.client.id, scope: checked.scope } });
  const outcome = await decideAuthorization(c.get("db"), endpoints.issuer, checked, person, redeemed.request, true);
  return answerAuthorization(c, outcome, checked.client, checked.scope, requestPath, person.user.id, 303);
});

/** A back-channel request's form body; OAuth sends `application/x-www-form-urlencoded` (RFC 6749 §3.2). */
async function readForm(c: Context<AppEnv>): Promise<URLSearchParams> {
  if (!c.req.header("Content-Type")?.toLowerCase().startsWith("application/x-www-form-urlencoded")) {
    throw new OAuthError("invalid_request", "Send the parameters as application/x-www-form-urlencoded.");
  }
  return new URLSearchParams(await c.req.text());
}

async function authenticatedClient(c: Context<AppEnv>, form: URLSearchParams) {
  const endpoints = oauthEndpoints(c.get("config"));
  const audiences = { issuer: endpoints.issuer, tokenEndpoint: endpoints.token };
  return authenticateClient({ authorization: c.req.header("Authorization"), form }, lookupClient(c), (client, assertion) =>
    verifyClientAssertion(c.get("db"), client, assertion, audiences),
  );
}

const GRANTS = {
  authorization_code: authorizationCodeGrant,
  refresh_token: refreshTokenGrant,
  client_credentials: clientCredentialsGrant,
} as const;

oauthRoutes.post(`${OAUTH_MOUNT}/token`, async (c) => {
  let clientId: string | undefined;
  try {
    const form = await readForm(c);
    const client = await authenticatedClient(c, form);
    clientId = client.id;
    const grantType = form.get("grant_type") ?? "";
    if (!Object.hasOwn(GRANTS, grantType)) throw new OAuthError("unsupported_grant_type", "grant_type is missing or not supported.");
    const ctx: GrantContext = {
      db: c.get("db"),
      config: c.get("config"),
      liveSession: (sessionId) => liveSession(c, sessionId, "current"),
      record: (event) => c.get("audit").record(event),
    };
    const result = await GRANTS[grantType as keyof typeof GRANTS](ctx, client, form);
    await c
      .get("audit")
      .record({ type: "oauth.token_issued", subject: result.userId, details: { clientId, grantType, scope: result.response.scope } });
    c.header("Pragma", "no-cache");
    return c.json(result.response, 200);
  } catch (error) {
    if (error instanceof OAuthError) await recordRefusal(c, "oauth.token_refused", error, clientId);
    throw error;
  }
});

/** The bearer access token of a userinfo request (RFC 6750 §2.1), verified as one of ours for userinfo. */
async function userinfoClaims(c: Context<AppEnv>) {
  const config = c.get("config");
  const challenge = (error: string) => ({ "WWW-Authenticate": `Bearer error="${error}"` });
  const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(c.req.header("Authorization") ?? "");
  if (!match) throw new OAuthError("invalid_token", "Send the access token as a Bearer token.", { "WWW-Authenticate": "Bearer" });
  let claims: Awaited<ReturnType<typeof verifyJwt>>;
  try {
    claims = await verifyJwt(match[1]!, ownTokenKind(config, ACCESS_TOKEN_TYP, oauthEndpoints(config).userinfo));
  } catch (error) {
    if (error instanceof TokenError) throw new OAuthError("invalid_token", "The access token is not valid.", challenge("invalid_token"));
    throw error;
  }
  const scopes = scopeSet(String(claims.scope ?? ""));
  if (!scopes.has("openid"))
    throw new OAuthError("insufficient_scope", "The token lacks the openid scope.", challenge("insufficient_scope"));
  const user = await findUserById(c.get("db"), String(claims.sub));
  if (!user || user.disabledAt !== null) throw new OAuthError("invalid_token", "The account is not active.", challenge("invalid_token"));
  return { sub: user.id, ...scopedClaims(user, scopes) };
}

oauthRoutes.get(`${OAUTH_MOUNT}/userinfo`, async (c) => c.json(await userinfoClaims(c), 200));
oauthRoutes.post(`${OAUTH_MOUNT}/userinfo`, async (c) => c.json(await userinfoClaims(c), 200));

oauthRoutes.post(`${OAUTH_MOUNT}/revoke`, async (c) => {
  const form = await readForm(c);
  const client = await authenticatedClient(c, form);
  const token = form.get("token");
  if (!token) throw new OAuthError("invalid_request", "token is missing.");
  const row = await findAppRefreshToken(c.get("db"), token);
  // RFC 7009 §2.2: an unknown token, or another client's, is answered 200 all the same; only its own client revokes it.
  if (row && row.clientId === client.id && row.revokedAt === null) {
    await revokeRefreshFamily(c.get("db"), row.familyId);
    await c.get("audit").record({ type: "oauth.token_revoked", subject: row.userId, details: { clientId: client.id } });
  }
  return c.body(null, 200);
});

/** The unverified claims of a JWT, only to choose which audience to verify it for. */
function peekClaims(token: string): Record<string, unknown> | undefined {
  const payload = token.split(".")[1];
  if (!payload || !peekHeader(token)) return undefined;
  try {
    return JSON.parse(new TextDecoder().decode(fromBase64Url(payload)));
  } catch {
    return undefined;
  }
}

oauthRoutes.post(`${OAUTH_MOUNT}/introspect`, async (c) => {
  const form = await readForm(c);
  const client = await authenticatedClient(c, form);
  // RFC 7662 §4: introspection tells a token's secrets; public clients (no credential) never ask.
  if (client.tokenEndpointAuthMethod === "none") throw new OAuthError("invalid_client", "Introspection is for confidential clients.");
  const token = form.get("token");
  if (!token) throw new OAuthError("invalid_request", "token is missing.");
  const inactive = () => c.json({ active: false }, 200);

  const refresh = await findAppRefreshToken(c.get("db"), token);
  if (refresh) {
    const live = refresh.clientId === client.id && refresh.revokedAt === null && refresh.usedAt === null && refresh.expiresAt > Date.now();
    if (!live) return inactive();
    return c.json(
      {
        active: true,
        token_type: "refresh_token",
        client_id: refresh.clientId,
        sub: refresh.userId,
        scope: refresh.scope,
        exp: Math.floor(refresh.expiresAt / 1000),
      },
      200,
    );
  }
  // An access token: the caller learns about it when it is one of the caller's audiences, or its own token.
  const peeked = peekClaims(token);
  if (!peeked) return inactive();
  const audiences = (Array.isArray(peeked.aud) ? peeked.aud : [peeked.aud]).filter((aud): aud is string => typeof aud === "string");
  const audience = audiences.find((aud) => client.audiences.includes(aud)) ?? (peeked.client_id === client.id ? audiences[0] : undefined);
  if (!audience) return inactive();
  try {
    const claims = await verifyJwt(token, ownTokenKind(c.get("config"), ACCESS_TOKEN_TYP, audience));
    return c.json({ active: true, token_type: "Bearer", ...claims }, 200);
  } catch (error) {
    if (error instanceof TokenError) return inactive();
    throw error;
  }
});

oauthRoutes.get(`${OAUTH_MOUNT}/logout`, async (c) => {
  const config = c.get("config");
  const url = new URL(c.req.url);
  const hint = url.searchParams.get("id_token_hint");
  const page = (description: string) =>
    renderPage(c, (nonce) => <AuthorizeErrorPage nonce={nonce} error="invalid_request" description={description} />, 400);
  if (!hint) return page("Sign out from the app: it must send id_token_hint.");
  const aud = peekClaims(hint)?.aud;
  const client = typeof aud === "string" ? await findClient(c.get("db"), aud) : undefined;
  if (!client) return page("The id_token_hint does not name an app registered here.");
  let sub: string;
  try {
    sub = String((await verifyJwt(hint, ownTokenKind(config, ID_TOKEN_TYP, client.id))).sub);
  } catch (error) {
    if (error instanceof TokenError) return page("The id_token_hint is not a valid ID token from HeadyKey.");
    throw error;
  }
  const target = url.searchParams.get("post_logout_redirect_uri");
  if (target !== null && !client.postLogoutRedirectUris.includes(target))
    return page("post_logout_redirect_uri is not one this app registered.");
  const person = await signedInPerson(c);
  if (!person && c.req.header("Sec-Fetch-Site") === "cross-site")
    return renderPage(c, (nonce) => <SameSiteHopPage nonce={nonce} url={url.toString()} />);
  // Only the person the hint names is signed out: a hint for someone else ends nobody's session.
  if (person && person.user.id === sub) {
    await revokeSession(c.get("db"), person.session.id);
    evictCachedSession(person.session.id);
    clearSessionCookie(c);
    await c.get("audit").record({ type: "oauth.logout", subject: sub, details: { clientId: client.id } });
  }
  if (target === null) return c.redirect(SIGN_IN_PAGE_PATH, 302);
  const state = url.searchParams.get("state");
  const back = new URL(target);
  if (state !== null) back.searchParams.set("state", state);
  return c.redirect(back.toString(), 302);
});

documentOAuthRoutes(oauthRoutes);
