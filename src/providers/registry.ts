import type { AuthorizationServer } from "oauth4webapi";
import { primaryVerifiedEmail, requireSubject, standardClaimsProfile, stringClaim, trueClaim } from "./claims";
import type { ProviderDefinition, ProviderSetting } from "./definition";

/**
 * Every provider a deployment can enable (each only when `OAUTH_<ID>_CLIENT_ID` and
 * `OAUTH_<ID>_CLIENT_SECRET` are set). Endpoints are hand-written server metadata, checked against
 * each provider's documentation; OIDC providers get their ID token validated against `issuer` and
 * `jwks_uri`. docs/providers.md lists them with how each was tested.
 */

/** Server metadata for an OIDC provider whose endpoints hang off one base URL. */
function oidcServer(
  issuer: string,
  paths: { authorization: string; token: string; jwks: string; userinfo?: string },
  base = issuer,
): AuthorizationServer {
  return {
    issuer,
    authorization_endpoint: new URL(paths.authorization, base).href,
    token_endpoint: new URL(paths.token, base).href,
    jwks_uri: new URL(paths.jwks, base).href,
    ...(paths.userinfo ? { userinfo_endpoint: new URL(paths.userinfo, base).href } : {}),
  };
}

/** Server metadata for a plain OAuth 2.0 provider: no issuer of its own, so its authorization origin stands in. */
function oauth2Server(authorization: string, token: string): AuthorizationServer {
  return { issuer: new URL(authorization).origin, authorization_endpoint: authorization, token_endpoint: token };
}

const OIDC_SCOPES = ["openid", "email", "profile"] as const;

/** A DNS host name (no scheme, no path, no port). */
const HOST_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
/** An https base URL without path, query or credentials (http only on loopback, for local IdPs and tests). */
const BASE_URL = /^(https:\/\/[a-z0-9.-]+(:\d{1,5})?|http:\/\/(127\.0\.0\.1|localhost)(:\d{1,5})?)$/;
/** An issuer URL: https (or loopback http) with an optional path, no query or fragment. */
const ISSUER_URL = /^(https:\/\/[a-z0-9.-]+(:\d{1,5})?|http:\/\/(127\.0\.0\.1|localhost)(:\d{1,5})?)(\/[A-Za-z0-9._~/-]*)?$/;

const setting = (key: string, description: string, pattern: RegExp, defaultValue?: string): ProviderSetting =>
  defaultValue === undefined ? { key, description, pattern } : { key, description, pattern, defaultValue };

/** Microsoft's fixed tenant id for personal accounts (Entra ID token `tid`). */
const MICROSOFT_CONSUMER_TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad";
const MICROSOFT_MULTI_TENANT = new Set(["common", "organizations", "consumers"]);

/** A provider configured by its issuer URL alone (OIDC discovery). */
function discoveredProvider(id: string, name: string, developmentOnly: boolean): ProviderDefinition {
  return {
    id,
    name,
    protocol: "oidc",
    setting: setting("ISSUER", "the issuer URL; its /.well-known/openid-configuration is fetched and must name this issuer", ISSUER_URL),
    server: "discovery",
    scopes: OIDC_SCOPES,
    pkce: true,
    clientAuth: "client_secret_basic",
    profile: ({ claims }) => standardClaimsProfile(claims),
    developmentOnly,
  };
}

const GITHUB_DOT_COM = "https://github.com";

export const PROVIDERS: readonly ProviderDefinition[] = [
  {
    id: "google",
    name: "Google",
    protocol: "oidc",
    server: () =>
      oidcServer("https://accounts.google.com", {
        authorization: "https://accounts.google.com/o/oauth2/v2/auth",
        token: "https://oauth2.googleapis.com/token",
        jwks: "https://www.googleapis.com/oauth2/v3/certs",
        userinfo: "https://openidconnect.googleapis.com/v1/userinfo",
      }),
    scopes: OIDC_SCOPES,
    pkce: true,
    clientAuth: "client_secret_basic",
    profile: ({ claims }) => standardClaimsProfile(claims),
  },
  {
    id: "github",
    name: "GitHub",
    protocol: "oauth2",
    setting: setting("HOST", "GitHub Enterprise Server base URL", BASE_URL, GITHUB_DOT_COM),
    server: (host = GITHUB_DOT_COM) => oauth2Server(`${host}/login/oauth/authorize`, `${host}/login/oauth/access_token`),
    scopes: ["read:user", "user:email"],
    pkce: true,
    clientAuth: "client_secret_post",
    async profile({ getJson, setting: host = GITHUB_DOT_COM }) {
      const api = host === GITHUB_DOT_COM ? "https://api.github.com" : `${host}/api/v3`;
      const user = await getJson(`${api}/user`);
      const emails = await getJson(`${api}/user/emails`);
      return {
        subject: requireSubject(user.id),
        ...primaryVerifiedEmail(emails, (entry) => ({ email: entry?.email, primary: entry?.primary, verified: entry?.verified })),
        name: stringClaim(user.name) ?? stringClaim(user.login),
      };
    },
  },
  {
    id: "microsoft",
    name: "Microsoft",
    protocol: "oidc",
    setting: setting(
      "TENANT",
      "Entra tenant: common, organizations, consumers, a tenant id or a *.onmicrosoft.com domain",
      /^(common|organizations|consumers|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[a-z0-9-]+\.onmicrosoft\.com)$/,
      "common",
    ),
    server: (tenant = "common") =>
      oidcServer(
        `https://login.microsoftonline.com/${MICROSOFT_MULTI_TENANT.has(tenant) ? "{tenantid}" : tenant}/v2.0`,
        {
          authorization: `/${tenant}/oauth2/v2.0/authorize`,
          token: `/${tenant}/oauth2/v2.0/token`,
          jwks: `/${tenant}/discovery/v2.0/keys`,
        },
        "https://login.microsoftonline.com",
      ),
    // Multi-tenant endpoints issue tokens from each user's own tenant: the issuer must name the
    // token's `tid`, and `organizations`/`consumers` must not let the other account class in.
    expectedIssuer(claims, tenant = "common") {
      const tid = stringClaim(claims.tid);
      if (!MICROSOFT_MULTI_TENANT.has(tenant)) return `https://login.microsoftonline.com/${tenant}/v2.0`;
      const allowed = tid && (tenant === "common" || (tenant === "consumers") === (tid === MICROSOFT_CONSUMER_TENANT));
      return allowed ? `https://login.microsoftonline.com/${tid}/v2.0` : "https://login.microsoftonline.com/{tenant not allowed}/v2.0";
    },
    scopes: OIDC_SCOPES,
    pkce: true,
    clientAuth: "client_secret_post",
    // Entra's `email` claim is not verified by Microsoft (any tenant admin can set it): it counts
    // only with `xms_edov` (email domain owner verified), an optional claim the app must request.
    profile: ({ claims }) => ({ ...standardClaimsProfile(claims), emailVerified: trueClaim(claims.xms_edov) }),
  },
  {
    id: "apple",
    name: "Apple",
    protocol: "oidc",
    server: () => oidcServer("https://appleid.apple.com", { authorization: "/auth/authorize", token: "/auth/token", jwks: "/auth/keys" }),
    scopes: ["name", "email"],
    pkce: false,
    clientAuth: "client_secret_post",
    // Apple requires form_post whenever name or email is asked for.
    authorizationParams: { response_mode: "form_post" },
    formPost: true,
    profile: ({ claims }) => standardClaimsProfile(claims),
  },
  {
    id: "discord",
    name: "Discord",
    protocol: "oauth2",
    server: () => oauth2Server("https://discord.com/oauth2/authorize", "https://discord.com/api/oauth2/token"),
    scopes: ["identify", "email"],
    pkce: true,
    clientAuth: "client_secret_post",
    async profile({ getJson }) {
      const user = await getJson("https://discord.com/api/users/@me");
      return {
        subject: requireSubject(user.id),
        email: stringClaim(user.email),
        emailVerified: trueClaim(user.verified),
        name: stringClaim(user.global_name) ?? stringClaim(user.username),
      };
    },
  },
  {
    id: "slack",
    name: "Slack",
    protocol: "oidc",
    server: () =>
      oidcServer("https://slack.com", {
        authorization: "/openid/connect/authorize",
        token: "/api/openid.connect.token",
        jwks: "/openid/connect/keys",
        userinfo: "/api/openid.connect.userInfo",
      }),
    scopes: OIDC_SCOPES,
    pkce: true,
    clientAuth: "client_secret_post",
    profile: ({ claims }) => standardClaimsProfile(claims),
  },
  {
    id: "huggingface",
    name: "Hugging Face",
    protocol: "oidc",
    server: () =>
      oidcServer("https://huggingface.co", {
        authorization: "/oauth/authorize",
        token: "/oauth/token",
        jwks: "/oauth/jwks",
        userinfo: "/oauth/userinfo",
      }),
    scopes: OIDC_SCOPES,
    pkce: true,
    clientAuth: "client_secret_basic",
    profile: ({ claims }) => standardClaimsProfile(claims),
  },
  {
    id: "gitlab",
    name: "GitLab",
    protocol: "oidc",
    setting: setting("HOST", "self-managed GitLab base URL", BASE_URL, "https://gitlab.com"),
    server: (host = "https://gitlab.com") =>
      oidcServer(host, {
        authorization: "/oauth/authorize",
        token: "/oauth/token",
        jwks: "/oauth/discovery/keys",
        userinfo: "/oauth/userinfo",
      }),
    scopes: OIDC_SCOPES,
    pkce: true,
    clientAuth: "client_secret_basic",
    profile: ({ claims }) => standardClaimsProfile(claims),
  },
  {
    id: "linkedin",
    name: "LinkedIn",
    protocol: "oidc",
    server: () =>
      oidcServer("https://www.linkedin.com/oauth", {
        authorization: "https://www.linkedin.com/oauth/v2/authorization",
        token: "https://www.linkedin.com/oauth/v2/accessToken",
        jwks: "https://www.linkedin.com/oauth/openid/jwks",
        userinfo: "https://api.linkedin.com/v2/userinfo",
      }),
    scopes: OIDC_SCOPES,
    pkce: false,
    clientAuth: "client_secret_post",
    profile: ({ claims }) => standardClaimsProfile(claims),
  },
  {
    id: "twitter",
    name: "X (Twitter)",
    protocol: "oauth2",
    server: () => oauth2Server("https://x.com/i/oauth2/authorize", "https://api.x.com/2/oauth2/token"),
    scopes: ["users.read", "tweet.read", "users.email"],
    pkce: true,
    clientAuth: "client_secret_basic",
    async profile({ getJson }) {
      const { data } = await getJson("https://api.x.com/2/users/me?user.fields=confirmed_email");
      // X returns only a confirmed address here.
      const email = stringClaim(data?.confirmed_email);
      return {
        subject: requireSubject(data?.id),
        email,
        emailVerified: email !== undefined,
        name: stringClaim(data?.name) ?? stringClaim(data?.username),
      };
    },
  },
  {
    id: "facebook",
    name: "Facebook",
    protocol: "oauth2",
    server: () => oauth2Server("https://www.facebook.com/v24.0/dialog/oauth", "https://graph.facebook.com/v24.0/oauth/access_token"),
    scopes: ["email", "public_profile"],
    pkce: true,
    clientAuth: "client_secret_post",
    async profile({ getJson }) {
      const user = await getJson("https://graph.facebook.com/v24.0/me?fields=id,name,email");
      // The Graph API does not say whether the address was confirmed, so it never links by itself.
      return { subject: requireSubject(user.id), email: stringClaim(user.email), emailVerified: false, name: stringClaim(user.name) };
    },
  },
  {
    id: "notion",
    name: "Notion",
    protocol: "oauth2",
    server: () => oauth2Server("https://api.notion.com/v1/oauth/authorize", "https://api.notion.com/v1/oauth/token"),
    scopes: [],
    pkce: false,
    clientAuth: "client_secret_basic",
    authorizationParams: { owner: "user" },
    // The token response names the person who authorised the integration.
    profile({ tokens }) {
      const user = (tokens.owner as any)?.user;
      return {
        subject: requireSubject(user?.id),
        email: stringClaim(user?.person?.email),
        emailVerified: false,
        name: stringClaim(user?.name),
      };
    },
  },
  {
    id: "atlassian",
    name: "Atlassian",
    protocol: "oauth2",
    server: () => oauth2Server("https://auth.atlassian.com/authorize", "https://auth.atlassian.com/oauth/token"),
    scopes: ["read:me", "read:account"],
    pkce: false,
    clientAuth: "client_secret_post",
    authorizationParams: { audience: "api.atlassian.com", prompt: "consent" },
    async profile({ getJson }) {
      const me = await getJson("https://api.atlassian.com/me");
      return {
        subject: requireSubject(me.account_id),
        email: stringClaim(me.email),
        emailVerified: trueClaim(me.email_verified),
        name: stringClaim(me.name),
      };
    },
  },
  {
    id: "okta",
    name: "Okta",
    protocol: "oidc",
    setting: setting("DOMAIN", "the Okta org domain, e.g. example.okta.com", HOST_NAME),
    server: (domain) =>
      oidcServer(`https://${domain}`, {
        authorization: "/oauth2/v1/authorize",
        token: "/oauth2/v1/token",
        jwks: "/oauth2/v1/keys",
        userinfo: "/oauth2/v1/userinfo",
      }),
    scopes: OIDC_SCOPES,
    pkce: true,
    clientAuth: "client_secret_basic",
    profile: ({ claims }) => standardClaimsProfile(claims),
  },
  {
    id: "auth0",
    name: "Auth0",
    protocol: "oidc",
    setting: setting("DOMAIN", "the Auth0 tenant domain, e.g. example.us.auth0.com", HOST_NAME),
    // Auth0's issuer ends with a slash.
    server: (domain) =>
      oidcServer(`https://${domain}/`, {
        authorization: "/authorize",
        token: "/oauth/token",
        jwks: "/.well-known/jwks.json",
        userinfo: "/userinfo",
      }),
    scopes: OIDC_SCOPES,
    pkce: true,
    clientAuth: "client_secret_post",
    profile: ({ claims }) => standardClaimsProfile(claims),
  },
  {
    id: "salesforce",
    name: "Salesforce",
    protocol: "oidc",
    server: () =>
      oidcServer("https://login.salesforce.com", {
        authorization: "/services/oauth2/authorize",
        token: "/services/oauth2/token",
        jwks: "/id/keys",
        userinfo: "/services/oauth2/userinfo",
      }),
    scopes: OIDC_SCOPES,
    pkce: true,
    clientAuth: "client_secret_post",
    profile: ({ claims }) => standardClaimsProfile(claims),
  },
  {
    id: "zoom",
    name: "Zoom",
    protocol: "oauth2",
    server: () => oauth2Server("https://zoom.us/oauth/authorize", "https://zoom.us/oauth/token"),
    scopes: ["user:read:user"],
    pkce: true,
    clientAuth: "client_secret_basic",
    async profile({ getJson }) {
      const user = await getJson("https://api.zoom.us/v2/users/me");
      return {
        subject: requireSubject(user.id),
        email: stringClaim(user.email),
        emailVerified: trueClaim(user.verified),
        name: stringClaim(user.display_name),
      };
    },
  },
  {
    id: "spotify",
    name: "Spotify",
    protocol: "oauth2",
    server: () => oauth2Server("https://accounts.spotify.com/authorize", "https://accounts.spotify.com/api/token"),
    scopes: ["user-read-email"],
    pkce: true,
    clientAuth: "client_secret_basic",
    async profile({ getJson }) {
      const user = await getJson("https://api.spotify.com/v1/me");
      // Spotify does not verify addresses.
      return {
        subject: requireSubject(user.id),
        email: stringClaim(user.email),
        emailVerified: false,
        name: stringClaim(user.display_name),
      };
    },
  },
  {
    id: "reddit",
    name: "Reddit",
    protocol: "oauth2",
    server: () => oauth2Server("https://www.reddit.com/api/v1/authorize", "https://www.reddit.com/api/v1/access_token"),
    scopes: ["identity"],
    pkce: false,
    clientAuth: "client_secret_basic",
    authorizationParams: { duration: "temporary" },
    async profile({ getJson }) {
      // Reddit shares no email: such an identity can only be linked to a signed-in account.
      const me = await getJson("https://oauth.reddit.com/api/v1/me");
      return { subject: requireSubject(me.id), emailVerified: false, name: stringClaim(me.name) };
    },
  },
  {
    id: "twitch",
    name: "Twitch",
    protocol: "oidc",
    server: () =>
      oidcServer("https://id.twitch.tv/oauth2", {
        authorization: "https://id.twitch.tv/oauth2/authorize",
        token: "https://id.twitch.tv/oauth2/token",
        jwks: "https://id.twitch.tv/oauth2/keys",
        userinfo: "https://id.twitch.tv/oauth2/userinfo",
      }),
    scopes: ["openid", "user:read:email"],
    pkce: false,
    clientAuth: "client_secret_post",
    // Twitch puts email claims in the ID token only when asked for by name.
    authorizationParams: { claims: JSON.stringify({ id_token: { email: null, email_verified: null, preferred_username: null } }) },
    profile: ({ claims }) => standardClaimsProfile(claims),
  },
  {
    id: "figma",
    name: "Figma",
    protocol: "oauth2",
    server: () => oauth2Server("https://www.figma.com/oauth", "https://api.figma.com/v1/oauth/token"),
    scopes: ["current_user:read"],
    pkce: true,
    clientAuth: "client_secret_basic",
    async profile({ getJson }) {
      const user = await getJson("https://api.figma.com/v1/me");
      return { subject: requireSubject(user.id), email: stringClaim(user.email), emailVerified: false, name: stringClaim(user.handle) };
    },
  },
  {
    id: "shopify",
    name: "Shopify",
    protocol: "oauth2",
    setting: setting("SHOP", "the shop's domain, e.g. example.myshopify.com", /^[a-z0-9][a-z0-9-]*\.myshopify\.com$/),
    server: (shop) => oauth2Server(`https://${shop}/admin/oauth/authorize`, `https://${shop}/admin/oauth/access_token`),
    scopes: [],
    pkce: false,
    clientAuth: "client_secret_post",
    // Online (per-user) access mode: the token response names the staff member who signed in.
    authorizationParams: { "grant_options[]": "per-user" },
    profile({ tokens, setting: shop }) {
      const user = tokens.associated_user as any;
      return {
        // Staff ids are per shop.
        subject: `${shop}/${requireSubject(user?.id)}`,
        email: stringClaim(user?.email),
        emailVerified: trueClaim(user?.email_verified),
        name: [stringClaim(user?.first_name), stringClaim(user?.last_name)].filter(Boolean).join(" ") || undefined,
      };
    },
  },
  {
    id: "stripe",
    name: "Stripe Connect",
    protocol: "oauth2",
    server: () => oauth2Server("https://connect.stripe.com/oauth/authorize", "https://connect.stripe.com/oauth/token"),
    scopes: ["read_only"],
    pkce: false,
    clientAuth: "client_secret_post",
    // The connected account is the identity; Stripe shares no personal email here.
    profile: ({ tokens }) => ({ subject: requireSubject(tokens.stripe_user_id), emailVerified: false }),
  },
  {
    id: "onelogin",
    name: "OneLogin",
    protocol: "oidc",
    setting: setting("SUBDOMAIN", "the OneLogin subdomain (the x of x.onelogin.com)", /^[a-z0-9][a-z0-9-]{0,62}$/),
    server: (subdomain) =>
      oidcServer(`https://${subdomain}.onelogin.com/oidc/2`, {
        authorization: `https://${subdomain}.onelogin.com/oidc/2/auth`,
        token: `https://${subdomain}.onelogin.com/oidc/2/token`,
        jwks: `https://${subdomain}.onelogin.com/oidc/2/certs`,
        userinfo: `https://${subdomain}.onelogin.com/oidc/2/me`,
      }),
    scopes: OIDC_SCOPES,
    pkce: true,
    clientAuth: "client_secret_basic",
    profile: ({ claims }) => standardClaimsProfile(claims),
  },
  {
    id: "bitbucket",
    name: "Bitbucket",
    protocol: "oauth2",
    server: () => oauth2Server("https://bitbucket.org/site/oauth2/authorize", "https://bitbucket.org/site/oauth2/access_token"),
    scopes: ["account", "email"],
    pkce: false,
    clientAuth: "client_secret_basic",
    async profile({ getJson }) {
      const user = await getJson("https://api.bitbucket.org/2.0/user");
      const emails = await getJson("https://api.bitbucket.org/2.0/user/emails");
      return {
        subject: requireSubject(user.uuid),
        ...primaryVerifiedEmail(emails?.values, (entry) => ({
          email: entry?.email,
          primary: entry?.is_primary,
          verified: entry?.is_confirmed,
        })),
        name: stringClaim(user.display_name),
      };
    },
  },
  discoveredProvider("oidc", "OpenID Connect", false),
  discoveredProvider("dev", "Local dev IdP", true),
];

/** The registry by id. */
export const PROVIDERS_BY_ID: ReadonlyMap<string, ProviderDefinition> = new Map(PROVIDERS.map((provider) => [provider.id, provider]));
