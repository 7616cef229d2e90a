import { primaryVerifiedEmail, requireSubject, standardClaimsProfile, stringClaim, trueClaim } from "../claims";
import type { ProviderDefinition } from "../definition";
import { BASE_URL, OIDC_SCOPES, oauth2Server, oidcServer, setting } from "./building-blocks";

const GITHUB_DOT_COM = "https://github.com";

/** Work tools and developer platforms. */
export const DEVELOPER_PROVIDERS: readonly ProviderDefinition[] = [
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
];
