import { type OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../context";
import { OAUTH_AUTHORIZE_PATH, OAUTH_MOUNT } from "../oauth/endpoints";

const TAG = ["Sign in with HeadyKey"];

const OAuthErrorBody = z
  .object({ error: z.string(), error_description: z.string() })
  .openapi("OAuthError", { description: "RFC 6749 §5.2" });
const oauthErrors = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((status) => [status, { description: "OAuth error", content: { "application/json": { schema: OAuthErrorBody } } }]),
  );
const form = (fields: Record<string, string>) => ({
  required: true,
  content: {
    "application/x-www-form-urlencoded": {
      schema: z.object(
        Object.fromEntries(Object.entries(fields).map(([name, description]) => [name, z.string().optional().openapi({ description })])),
      ),
    },
  },
});
const query = (fields: Record<string, string>) =>
  z.object(Object.fromEntries(Object.entries(fields).map(([name, description]) => [name, z.string().optional().openapi({ description })])));
const json = (description: string) => ({ description, content: { "application/json": { schema: z.record(z.string(), z.unknown()) } } });

/**
 * The OpenAPI entries of the provider's routes. The routes parse OAuth's form bodies themselves, so
 * that every refusal is in OAuth's error shape, and are documented here rather than validated by schema.
 */
export function documentOAuthRoutes(app: OpenAPIHono<AppEnv>): void {
  const registry = app.openAPIRegistry;
  for (const path of ["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"]) {
    registry.registerPath({
      method: "get",
      path,
      tags: TAG,
      summary: path.endsWith("openid-configuration") ? "OpenID Connect discovery" : "Authorization server metadata (RFC 8414)",
      description: "One document for both: only what is implemented is advertised.",
      responses: { 200: json("The provider metadata"), 404: { description: "The provider is not configured (no OIDC_SIGNING_KEYS)" } },
    });
  }
  registry.registerPath({
    method: "get",
    path: OAUTH_AUTHORIZE_PATH,
    tags: TAG,
    summary: "Authorization endpoint (code flow, PKCE S256 required)",
    description:
      "Answers 302 to the client's redirect URI with `code`, `state` and `iss` (RFC 9207), or with `error`; 302 to `/sign-in` when nobody is signed in; the consent page (200) for an app the person has not allowed yet; a same-site hop page (200) for a request that arrived from another site without the session cookie; and 400 with our own page when the client or redirect URI is not known good.",
    request: {
      query: query({
        response_type: "`code`",
        client_id: "the app's client id",
        redirect_uri: "exactly one the app registered",
        scope: "space-separated, within the app's allowed scopes",
        state: "echoed back",
        nonce: "echoed in the ID token",
        code_challenge: "BASE64URL(SHA-256(code_verifier))",
        code_challenge_method: "`S256`",
        prompt: "`none`, `login`, `consent`",
        max_age: "seconds since the sign-in",
        login_hint: "accepted",
        resource: "RFC 8707: one of the app's audiences",
        ui_locales: "accepted",
      }),
    },
    responses: {
      200: { description: "The consent page or the same-site hop" },
      302: { description: "Redirect" },
      400: { description: "Our own error page" },
    },
  });
  registry.registerPath({
    method: "post",
    path: `${OAUTH_MOUNT}/consent`,
    tags: TAG,
    summary: "The consent page's decision",
    description: "Posted by the consent page only (same origin, the session cookie, a single-use ticket); answers 303 to the app.",
    request: { body: form({ ticket: "the page's single-use ticket", decision: "`approve` or `deny`" }) },
    responses: {
      303: { description: "Back to the app, with a code or access_denied" },
      400: { description: "Expired or used ticket" },
      401: { description: "Not signed in" },
      403: { description: "Not from the consent page" },
    },
  });
  registry.registerPath({
    method: "post",
    path: `${OAUTH_MOUNT}/token`,
    tags: TAG,
    summary: "Token endpoint",
    description:
      "`authorization_code` (with `code_verifier`), `refresh_token` (rotated; a reused one revokes its family) and `client_credentials`. Client authentication: `client_secret_basic`, `client_secret_post`, `private_key_jwt` (RFC 7523), or `none` for public clients.",
    request: {
      body: form({
        grant_type: "`authorization_code`, `refresh_token` or `client_credentials`",
        code: "authorization_code",
        redirect_uri: "authorization_code: as in the authorization request",
        code_verifier: "authorization_code: the PKCE verifier",
        refresh_token: "refresh_token",
        scope: "client_credentials: API scopes",
        resource: "RFC 8707",
        client_id: "client_secret_post and public clients",
        client_secret: "client_secret_post",
        client_assertion_type: "private_key_jwt: `urn:ietf:params:oauth:client-assertion-type:jwt-bearer`",
        client_assertion: "private_key_jwt: the signed assertion",
      }),
    },
    responses: {
      200: json("access_token, token_type, expires_in, scope, and id_token and refresh_token where they apply"),
      ...oauthErrors(400, 401),
    },
  });
  for (const method of ["get", "post"] as const) {
    registry.registerPath({
      method,
      path: `${OAUTH_MOUNT}/userinfo`,
      tags: TAG,
      summary: "UserInfo (OIDC Core §5.3)",
      description: "A Bearer access token with the `openid` scope; the claims its scopes allow.",
      security: [{ bearer: [] }],
      responses: { 200: json("sub, and name, email, email_verified by scope"), ...oauthErrors(401, 403) },
    });
  }
  registry.registerPath({
    method: "post",
    path: `${OAUTH_MOUNT}/revoke`,
    tags: TAG,
    summary: "Token revocation (RFC 7009)",
    description: "A refresh token ends with its whole family; 200 for any token, known or not.",
    request: { body: form({ token: "the token", token_type_hint: "ignored" }) },
    responses: { 200: { description: "Done" }, ...oauthErrors(400, 401) },
  });
  registry.registerPath({
    method: "post",
    path: `${OAUTH_MOUNT}/introspect`,
    tags: TAG,
    summary: "Token introspection (RFC 7662)",
    description: "Confidential clients only: its own refresh tokens, and access tokens for one of its audiences or issued to it.",
    request: { body: form({ token: "the token", token_type_hint: "ignored" }) },
    responses: { 200: json("`{active: false}` or the token's claims with `active: true`"), ...oauthErrors(400, 401) },
  });
  registry.registerPath({
    method: "get",
    path: `${OAUTH_MOUNT}/logout`,
    tags: TAG,
    summary: "RP-initiated logout",
    description:
      "Ends the session of the person `id_token_hint` names, then redirects to a registered `post_logout_redirect_uri` (with `state`).",
    request: {
      query: query({
        id_token_hint: "an ID token HeadyKey issued to the app",
        post_logout_redirect_uri: "one the app registered",
        state: "echoed back",
      }),
    },
    responses: { 302: { description: "To the app, or to the sign-in page" }, 400: { description: "Our own error page" } },
  });
}
