import { standardClaimsProfile, stringClaim, trueClaim } from "../claims";
import type { ProviderDefinition } from "../definition";
import { HOST_NAME, OIDC_SCOPES, oidcServer, setting } from "./building-blocks";

/** Microsoft's fixed tenant id for personal accounts (Entra ID token `tid`). */
const MICROSOFT_CONSUMER_TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad";
const MICROSOFT_MULTI_TENANT = new Set(["common", "organizations", "consumers"]);

/** Workforce identity providers, configured per tenant or organisation. */
export const ENTERPRISE_PROVIDERS: readonly ProviderDefinition[] = [
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
];
