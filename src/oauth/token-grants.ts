import type { AuthEvent } from "../audit/event";
import type { Database } from "../db/client";
import type { OAuthClientRow, SessionRow, UserRow } from "../db/schema";
import type { Config } from "../env";
import { findUserById } from "../identity/users";
import { canonicalScope, scopeSet } from "./claims";
import { STANDARD_SCOPES } from "./client-schemas";
import { noteCodeFamily, pkceMatches, redeemCode } from "./codes";
import { OAuthError } from "./errors";
import { rotateAppRefreshToken, startRefreshFamily } from "./refresh-tokens";
import { issueAccessToken, issueIdToken } from "./tokens";

/** The token response (RFC 6749 §5.1, OIDC Core §3.1.3.3). */
export interface TokenResponse {
  access_token: string;
  token_type: "Bearer";
  expires_in: number;
  scope: string;
  id_token?: string;
  refresh_token?: string;
}

/** What a grant is told about the world: the database, the config, and whether a session is still live. */
export interface GrantContext {
  db: Database;
  config: Config;
  liveSession(sessionId: string): Promise<{ session: SessionRow; user: UserRow } | undefined>;
  /** Records an event of the audit trail (a replay or reuse, which the route's own refusal event would not name). */
  record(event: AuthEvent): Promise<void>;
}

/** A grant's outcome, for the audit trail: which user (if any) it was for, and the refresh family it touched. */
export interface GrantResult {
  response: TokenResponse;
  userId?: string | undefined;
}

function required(form: URLSearchParams, name: string): string {
  const value = form.get(name);
  if (!value) throw new OAuthError("invalid_request", `${name} is missing.`);
  if (form.getAll(name).length > 1) throw new OAuthError("invalid_request", `${name} is given more than once.`);
  return value;
}

function assertGrantAllowed(client: OAuthClientRow, grant: string): void {
  if (!client.grantTypes.includes(grant)) throw new OAuthError("unauthorized_client", `This app may not use ${grant}.`);
}

async function tokensFor(
  ctx: GrantContext,
  client: OAuthClientRow,
  user: UserRow,
  grant: { scope: string; resource: string; authTime: number; amr: readonly string[]; nonce?: string | null },
): Promise<TokenResponse> {
  const access = await issueAccessToken(ctx.config, {
    client,
    subject: user.id,
    scope: grant.scope,
    resource: grant.resource,
    authTime: grant.authTime,
  });
  const response: TokenResponse = { access_token: access.token, token_type: "Bearer", expires_in: access.expiresIn, scope: grant.scope };
  if (scopeSet(grant.scope).has("openid")) {
    response.id_token = await issueIdToken(ctx.config, {
      client,
      user,
      scope: grant.scope,
      authTime: grant.authTime,
      amr: grant.amr,
      nonce: grant.nonce,
      accessToken: access.token,
    });
  }
  return response;
}

/** RFC 6749 §4.1.3 with PKCE (RFC 7636 §4.6): the code, its client, its redirect URI, its verifier, and a session still live. */
export async function authorizationCodeGrant(ctx: GrantContext, client: OAuthClientRow, form: URLSearchParams): Promise<GrantResult> {
  assertGrantAllowed(client, "authorization_code");
  const presented = required(form, "code");
  const redirectUri = required(form, "redirect_uri");
  const verifier = required(form, "code_verifier");
  const redemption = await redeemCode(ctx.db, presented);
  if (redemption.outcome === "replayed") {
    await ctx.record({ type: "oauth.code_replayed", subject: redemption.userId, details: { clientId: client.id } });
    throw new OAuthError("invalid_grant", "The code was already used; the tokens it gave are revoked.");
  }
  if (redemption.outcome === "invalid") throw new OAuthError("invalid_grant", "The code is not valid.");
  const { code } = redemption;
  // One answer for every mismatch, so a guess learns nothing about which part was wrong.
  const invalid = new OAuthError("invalid_grant", "The code is not valid for this request.");
  if (code.clientId !== client.id || code.expiresAt <= Date.now() || code.redirectUri !== redirectUri) throw invalid;
  if (!(await pkceMatches(verifier, code.codeChallenge))) throw invalid;
  const resource = form.get("resource");
  if (resource !== null && resource !== code.resource) throw new OAuthError("invalid_target", "The code was not issued for that resource.");
  const live = await ctx.liveSession(code.sessionId);
  if (!live) throw new OAuthError("invalid_grant", "The sign-in this code came from has ended.");

  const response = await tokensFor(ctx, client, live.user, {
    scope: code.scope,
    resource: code.resource,
    authTime: code.authTime,
    amr: code.amr,
    nonce: code.nonce,
  });
  if (client.grantTypes.includes("refresh_token") && scopeSet(code.scope).has("offline_access")) {
    const family = await startRefreshFamily(
      ctx.db,
      { clientId: client.id, userId: live.user.id, scope: code.scope, resource: code.resource, authTime: code.authTime, amr: code.amr },
      client.refreshTokenTtlSeconds,
    );
    await noteCodeFamily(ctx.db, code.codeHash, family.familyId);
    response.refresh_token = family.token;
  }
  return { response, userId: live.user.id };
}

/** RFC 6749 §6 with rotation: a new refresh token each time; presenting an old one ends the family (RFC 9700 §4.14.2). */
export async function refreshTokenGrant(ctx: GrantContext, client: OAuthClientRow, form: URLSearchParams): Promise<GrantResult> {
  assertGrantAllowed(client, "refresh_token");
  const rotation = await rotateAppRefreshToken(ctx.db, client.id, required(form, "refresh_token"));
  if (rotation.outcome === "reused") {
    await ctx.record({
      type: "oauth.refresh_reuse_detected",
      subject: rotation.row.userId,
      details: { clientId: client.id, family: rotation.row.familyId },
    });
    throw new OAuthError("invalid_grant", "The refresh token was already used; every token of its family is revoked.");
  }
  if (rotation.outcome === "invalid") throw new OAuthError("invalid_grant", "The refresh token is not valid.");
  const user = await findUserById(ctx.db, rotation.row.userId);
  if (!user || user.disabledAt !== null) throw new OAuthError("invalid_grant", "The account is not active.");
  const response = await tokensFor(ctx, client, user, {
    scope: rotation.row.scope,
    resource: rotation.row.resource,
    authTime: rotation.row.authTime,
    amr: rotation.row.amr,
  });
  response.refresh_token = rotation.token;
  return { response, userId: user.id };
}

/** RFC 6749 §4.4: a service acting as itself, for a resource it registered, with API scopes only (no person, so no OIDC scopes). */
export async function clientCredentialsGrant(ctx: GrantContext, client: OAuthClientRow, form: URLSearchParams): Promise<GrantResult> {
  assertGrantAllowed(client, "client_credentials");
  const allowed = client.scopes.filter((scope) => !(STANDARD_SCOPES as readonly string[]).includes(scope));
  const requested = (form.get("scope") ?? "").split(" ").filter(Boolean);
  const asked = requested.length > 0 ? requested : allowed;
  const forbidden = asked.filter((scope) => !allowed.includes(scope));
  if (forbidden.length > 0) throw new OAuthError("invalid_scope", `This app may not ask for: ${forbidden.join(", ")}.`);
  const resource = form.get("resource") ?? client.audiences[0];
  if (resource === undefined || !client.audiences.includes(resource)) {
    throw new OAuthError("invalid_target", "Name a resource this app registered as an audience.");
  }
  const scope = canonicalScope(asked);
  const access = await issueAccessToken(ctx.config, { client, subject: client.id, scope, resource });
  return { response: { access_token: access.token, token_type: "Bearer", expires_in: access.expiresIn, scope } };
}
