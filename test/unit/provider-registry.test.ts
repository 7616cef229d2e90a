import { describe, expect, it } from "vitest";
import { loadProvidersConfig, providerVariable } from "../../src/providers/config";
import type { ProviderProfile } from "../../src/providers/definition";
import { authorizationServer, authorizationUrl, newFlowSecrets } from "../../src/providers/protocol";
import { PROVIDERS } from "../../src/providers/registry";
import { testConfig } from "../support/config";

interface Expectation {
  setting?: string;
  authorize: string;
  token: string;
  scope: string | null;
  pkce: boolean;
  clientAuth: "client_secret_basic" | "client_secret_post";
  params?: Record<string, string>;
  /** OIDC: the issuer ID tokens must carry, and where its keys are. */
  oidc?: { issuer: string; jwks: string };
  /** What the provider answers: ID token claims, token response fields, API resources by URL. */
  claims?: Record<string, unknown>;
  tokens?: Record<string, unknown>;
  api?: Record<string, unknown>;
  profile: ProviderProfile;
}

const verifiedOidc = { sub: "s-1", email: "ada@example.com", email_verified: true, name: "Ada" };
const oidcProfile: ProviderProfile = { subject: "s-1", email: "ada@example.com", emailVerified: true, name: "Ada" };
const OIDC = "openid email profile";

/** The 25 providers of the product card, each checked against its documentation. */
const EXPECTED: Record<string, Expectation> = {
  google: {
    authorize: "https://accounts.google.com/o/oauth2/v2/auth",
    token: "https://oauth2.googleapis.com/token",
    scope: OIDC,
    pkce: true,
    clientAuth: "client_secret_basic",
    oidc: { issuer: "https://accounts.google.com", jwks: "https://www.googleapis.com/oauth2/v3/certs" },
    claims: verifiedOidc,
    profile: oidcProfile,
  },
  github: {
    authorize: "https://github.com/login/oauth/authorize",
    token: "https://github.com/login/oauth/access_token",
    scope: "read:user user:email",
    pkce: true,
    clientAuth: "client_secret_post",
    api: {
      "https://api.github.com/user": { id: 583231, login: "octocat", name: null },
      "https://api.github.com/user/emails": [
        { email: "octo@users.noreply.github.com", primary: false, verified: true },
        { email: "octo@example.com", primary: true, verified: true },
      ],
    },
    profile: { subject: "583231", email: "octo@example.com", emailVerified: true, name: "octocat" },
  },
  microsoft: {
    setting: "contoso.onmicrosoft.com",
    authorize: "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize",
    token: "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token",
    scope: OIDC,
    pkce: true,
    clientAuth: "client_secret_post",
    oidc: {
      issuer: "https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0",
      jwks: "https://login.microsoftonline.com/contoso.onmicrosoft.com/discovery/v2.0/keys",
    },
    // Entra's email claim is not verified unless xms_edov says the domain owner verified it.
    claims: { ...verifiedOidc, email_verified: undefined, tid: "t" },
    profile: { ...oidcProfile, emailVerified: false },
  },
  apple: {
    authorize: "https://appleid.apple.com/auth/authorize",
    token: "https://appleid.apple.com/auth/token",
    scope: "name email",
    pkce: false,
    clientAuth: "client_secret_post",
    params: { response_mode: "form_post" },
    oidc: { issuer: "https://appleid.apple.com", jwks: "https://appleid.apple.com/auth/keys" },
    // Apple sends email_verified as a string.
    claims: { sub: "001.apple", email: "x@privaterelay.appleid.com", email_verified: "true" },
    profile: { subject: "001.apple", email: "x@privaterelay.appleid.com", emailVerified: true, name: undefined },
  },
  discord: {
    authorize: "https://discord.com/oauth2/authorize",
    token: "https://discord.com/api/oauth2/token",
    scope: "identify email",
    pkce: true,
    clientAuth: "client_secret_post",
    api: {
      "https://discord.com/api/users/@me": {
        id: "80351110224678912",
        username: "nelly",
        global_name: "Nelly",
        email: "nelly@example.com",
        verified: true,
      },
    },
    profile: { subject: "80351110224678912", email: "nelly@example.com", emailVerified: true, name: "Nelly" },
  },
  slack: {
    authorize: "https://slack.com/openid/connect/authorize",
    token: "https://slack.com/api/openid.connect.token",
    scope: OIDC,
    pkce: true,
    clientAuth: "client_secret_post",
    oidc: { issuer: "https://slack.com", jwks: "https://slack.com/openid/connect/keys" },
    claims: verifiedOidc,
    profile: oidcProfile,
  },
  huggingface: {
    authorize: "https://huggingface.co/oauth/authorize",
    token: "https://huggingface.co/oauth/token",
    scope: OIDC,
    pkce: true,
    clientAuth: "client_secret_basic",
    oidc: { issuer: "https://huggingface.co", jwks: "https://huggingface.co/oauth/jwks" },
    claims: { sub: "hf-1", email: "hf@example.com", email_verified: false, preferred_username: "hfuser" },
    profile: { subject: "hf-1", email: "hf@example.com", emailVerified: false, name: "hfuser" },
  },
  gitlab: {
    setting: "https://gitlab.example.com",
    authorize: "https://gitlab.example.com/oauth/authorize",
    token: "https://gitlab.example.com/oauth/token",
    scope: OIDC,
    pkce: true,
    clientAuth: "client_secret_basic",
    oidc: { issuer: "https://gitlab.example.com", jwks: "https://gitlab.example.com/oauth/discovery/keys" },
    claims: verifiedOidc,
    profile: oidcProfile,
  },
  linkedin: {
    authorize: "https://www.linkedin.com/oauth/v2/authorization",
    token: "https://www.linkedin.com/oauth/v2/accessToken",
    scope: OIDC,
    pkce: false,
    clientAuth: "client_secret_post",
    oidc: { issuer: "https://www.linkedin.com/oauth", jwks: "https://www.linkedin.com/oauth/openid/jwks" },
    claims: verifiedOidc,
    profile: oidcProfile,
  },
  twitter: {
    authorize: "https://x.com/i/oauth2/authorize",
    token: "https://api.x.com/2/oauth2/token",
    scope: "users.read tweet.read users.email",
    pkce: true,
    clientAuth: "client_secret_basic",
    api: {
      "https://api.x.com/2/users/me?user.fields=confirmed_email": {
        data: { id: "2244994945", name: "X Dev", username: "xdev", confirmed_email: "dev@example.com" },
      },
    },
    profile: { subject: "2244994945", email: "dev@example.com", emailVerified: true, name: "X Dev" },
  },
  facebook: {
    authorize: "https://www.facebook.com/v24.0/dialog/oauth",
    token: "https://graph.facebook.com/v24.0/oauth/access_token",
    scope: "email public_profile",
    pkce: true,
    clientAuth: "client_secret_post",
    api: { "https://graph.facebook.com/v24.0/me?fields=id,name,email": { id: "10158", name: "Fay", email: "fay@example.com" } },
    profile: { subject: "10158", email: "fay@example.com", emailVerified: false, name: "Fay" },
  },
  notion: {
    authorize: "https://api.notion.com/v1/oauth/authorize",
    token: "https://api.notion.com/v1/oauth/token",
    scope: null,
    pkce: false,
    clientAuth: "client_secret_basic",
    params: { owner: "user" },
    tokens: { owner: { type: "user", user: { id: "n-1", name: "Nora", person: { email: "nora@example.com" } } } },
    profile: { subject: "n-1", email: "nora@example.com", emailVerified: false, name: "Nora" },
  },
  atlassian: {
    authorize: "https://auth.atlassian.com/authorize",
    token: "https://auth.atlassian.com/oauth/token",
    scope: "read:me read:account",
    pkce: false,
    clientAuth: "client_secret_post",
    params: { audience: "api.atlassian.com", prompt: "consent" },
    api: {
      "https://api.atlassian.com/me": { account_id: "5b10a2844c20165700ede21g", email: "at@example.com", email_verified: true, name: "At" },
    },
    profile: { subject: "5b10a2844c20165700ede21g", email: "at@example.com", emailVerified: true, name: "At" },
  },
  okta: {
    setting: "example.okta.com",
    authorize: "https://example.okta.com/oauth2/v1/authorize",
    token: "https://example.okta.com/oauth2/v1/token",
    scope: OIDC,
    pkce: true,
    clientAuth: "client_secret_basic",
    oidc: { issuer: "https://example.okta.com", jwks: "https://example.okta.com/oauth2/v1/keys" },
    claims: verifiedOidc,
    profile: oidcProfile,
  },
  auth0: {
    setting: "example.us.auth0.com",
    authorize: "https://example.us.auth0.com/authorize",
    token: "https://example.us.auth0.com/oauth/token",
    scope: OIDC,
    pkce: true,
    clientAuth: "client_secret_post",
    oidc: { issuer: "https://example.us.auth0.com/", jwks: "https://example.us.auth0.com/.well-known/jwks.json" },
    claims: verifiedOidc,
    profile: oidcProfile,
  },
  salesforce: {
    authorize: "https://login.salesforce.com/services/oauth2/authorize",
    token: "https://login.salesforce.com/services/oauth2/token",
    scope: OIDC,
    pkce: true,
    clientAuth: "client_secret_post",
    oidc: { issuer: "https://login.salesforce.com", jwks: "https://login.salesforce.com/id/keys" },
    claims: verifiedOidc,
    profile: oidcProfile,
  },
  zoom: {
    authorize: "https://zoom.us/oauth/authorize",
    token: "https://zoom.us/oauth/token",
    scope: "user:read:user",
    pkce: true,
    clientAuth: "client_secret_basic",
    api: { "https://api.zoom.us/v2/users/me": { id: "KDcuGIm1QgePTO8WbOqwIQ", email: "z@example.com", verified: 1, display_name: "Zed" } },
    profile: { subject: "KDcuGIm1QgePTO8WbOqwIQ", email: "z@example.com", emailVerified: true, name: "Zed" },
  },
  spotify: {
    authorize: "https://accounts.spotify.com/authorize",
    token: "https://accounts.spotify.com/api/token",
    scope: "user-read-email",
    pkce: true,
    clientAuth: "client_secret_basic",
    api: { "https://api.spotify.com/v1/me": { id: "wizzler", email: "w@example.com", display_name: "Wiz" } },
    profile: { subject: "wizzler", email: "w@example.com", emailVerified: false, name: "Wiz" },
  },
  reddit: {
    authorize: "https://www.reddit.com/api/v1/authorize",
    token: "https://www.reddit.com/api/v1/access_token",
    scope: "identity",
    pkce: false,
    clientAuth: "client_secret_basic",
    params: { duration: "temporary" },
    api: { "https://oauth.reddit.com/api/v1/me": { id: "1w72", name: "spez" } },
    profile: { subject: "1w72", emailVerified: false, name: "spez" },
  },
  twitch: {
    authorize: "https://id.twitch.tv/oauth2/authorize",
    token: "https://id.twitch.tv/oauth2/token",
    scope: "openid user:read:email",
    pkce: false,
    clientAuth: "client_secret_post",
    params: { claims: JSON.stringify({ id_token: { email: null, email_verified: null, preferred_username: null } }) },
    oidc: { issuer: "https://id.twitch.tv/oauth2", jwks: "https://id.twitch.tv/oauth2/keys" },
    claims: { sub: "713936733", email: "tw@example.com", email_verified: true, preferred_username: "streamer" },
    profile: { subject: "713936733", email: "tw@example.com", emailVerified: true, name: "streamer" },
  },
  figma: {
    authorize: "https://www.figma.com/oauth",
    token: "https://api.figma.com/v1/oauth/token",
    scope: "current_user:read",
    pkce: true,
    clientAuth: "client_secret_basic",
    api: { "https://api.figma.com/v1/me": { id: "1234", email: "f@example.com", handle: "fig" } },
    profile: { subject: "1234", email: "f@example.com", emailVerified: false, name: "fig" },
  },
  shopify: {
    setting: "example.myshopify.com",
    authorize: "https://example.myshopify.com/admin/oauth/authorize",
    token: "https://example.myshopify.com/admin/oauth/access_token",
    scope: null,
    pkce: false,
    clientAuth: "client_secret_post",
    params: { "grant_options[]": "per-user" },
    tokens: {
      associated_user: { id: 902541635, email: "staff@example.com", email_verified: true, first_name: "John", last_name: "Smith" },
    },
    profile: { subject: "example.myshopify.com/902541635", email: "staff@example.com", emailVerified: true, name: "John Smith" },
  },
  stripe: {
    authorize: "https://connect.stripe.com/oauth/authorize",
    token: "https://connect.stripe.com/oauth/token",
    scope: "read_only",
    pkce: false,
    clientAuth: "client_secret_post",
    tokens: { stripe_user_id: "acct_1032D82eZvKYlo2C" },
    profile: { subject: "acct_1032D82eZvKYlo2C", emailVerified: false },
  },
  onelogin: {
    setting: "example",
    authorize: "https://example.onelogin.com/oidc/2/auth",
    token: "https://example.onelogin.com/oidc/2/token",
    scope: OIDC,
    pkce: true,
    clientAuth: "client_secret_basic",
    oidc: { issuer: "https://example.onelogin.com/oidc/2", jwks: "https://example.onelogin.com/oidc/2/certs" },
    claims: verifiedOidc,
    profile: oidcProfile,
  },
  bitbucket: {
    authorize: "https://bitbucket.org/site/oauth2/authorize",
    token: "https://bitbucket.org/site/oauth2/access_token",
    scope: "account email",
    pkce: false,
    clientAuth: "client_secret_basic",
    api: {
      "https://api.bitbucket.org/2.0/user": { uuid: "{d301aafa-d676-4ee0-88be-962be7417567}", display_name: "Bit" },
      "https://api.bitbucket.org/2.0/user/emails": { values: [{ email: "bit@example.com", is_primary: true, is_confirmed: false }] },
    },
    // The primary address is not confirmed: no email is taken from Bitbucket.
    profile: { subject: "{d301aafa-d676-4ee0-88be-962be7417567}", emailVerified: false, name: "Bit" },
  },
};

/** The variables that enable one provider with fixed test credentials. */
function enable(id: string): Record<string, string> {
  const definition = PROVIDERS.find((provider) => provider.id === id)!;
  const vars: Record<string, string> = {
    [providerVariable(definition, "CLIENT_ID")]: `client-${id}`,
    [providerVariable(definition, "CLIENT_SECRET")]: `secret-${id}`,
  };
  const value = EXPECTED[id]?.setting;
  if (definition.setting && value) vars[providerVariable(definition, definition.setting.key)] = value;
  return vars;
}

function enabledProvider(id: string) {
  const { config, problems } = loadProvidersConfig(enable(id), "production", "https://id.heady.test");
  expect(problems).toEqual([]);
  return config.enabled.get(id)!;
}

describe("the provider registry", () => {
  it("holds the 25 providers of the product card, plus generic OIDC and the dev IdP", () => {
    expect(Object.keys(EXPECTED)).toHaveLength(25);
    expect(PROVIDERS.map((provider) => provider.id).sort()).toEqual([...Object.keys(EXPECTED), "oidc", "dev"].sort());
  });

  for (const [id, expected] of Object.entries(EXPECTED)) {
    describe(id, () => {
      it("builds the authorization URL: endpoint, client, exact redirect_uri, scopes, state, nonce, PKCE", async () => {
        const provider = enabledProvider(id);
        const server = await authorizationServer(testConfig(), provider);
        expect(server.token_endpoint).toBe(expected.token);
        expect(provider.definition.clientAuth).toBe(expected.clientAuth);
        expect(provider.definition.protocol).toBe(expected.oidc ? "oidc" : "oauth2");
        if (expected.oidc) {
          expect(server.jwks_uri).toBe(expected.oidc.jwks);
          // The issuer the ID token is checked against (multi-tenant Entra derives it from the token).
          expect(provider.definition.expectedIssuer?.({ tid: "t" }, provider.setting) ?? server.issuer).toBe(expected.oidc.issuer);
        }
        const secrets = newFlowSecrets(provider);
        const redirectUri = `https://id.heady.test/api/provider/callback/${id}`;
        const url = await authorizationUrl(server, provider, redirectUri, secrets);
        expect(url.origin + url.pathname).toBe(expected.authorize);
        const params = Object.fromEntries(url.searchParams);
        expect(params).toMatchObject({
          client_id: `client-${id}`,
          redirect_uri: redirectUri,
          response_type: "code",
          state: secrets.state,
          ...expected.params,
        });
        expect(params.scope ?? null).toBe(expected.scope);
        expect(params.nonce).toBe(expected.oidc ? secrets.nonce : undefined);
        expect(params.code_challenge_method).toBe(expected.pkce ? "S256" : undefined);
        expect(params.code_challenge === undefined).toBe(!expected.pkce);
        const known = new Set([
          "client_id",
          "redirect_uri",
          "response_type",
          "scope",
          "state",
          "nonce",
          "code_challenge",
          "code_challenge_method",
          ...Object.keys(expected.params ?? {}),
        ]);
        expect(Object.keys(params).filter((name) => !known.has(name))).toEqual([]);
      });

      it("maps the provider's answer onto the profile", async () => {
        const provider = enabledProvider(id);
        const requested: string[] = [];
        const profile = await provider.definition.profile({
          claims: expected.claims ?? {},
          tokens: { access_token: "at", token_type: "bearer", ...expected.tokens } as never,
          setting: provider.setting,
          async getJson(url) {
            requested.push(url);
            if (!(url in (expected.api ?? {}))) throw new Error(`unexpected API call ${url}`);
            return expected.api![url];
          },
        });
        expect(profile).toEqual(expected.profile);
        expect(requested).toEqual(Object.keys(expected.api ?? {}));
      });
    });
  }
});

describe("provider configuration", () => {
  it("enables a provider only with both its client id and secret", () => {
    expect(loadProvidersConfig({}, "production", "https://id.heady.test").config.enabled.size).toBe(0);
    const half = loadProvidersConfig({ OAUTH_GOOGLE_CLIENT_ID: "x" }, "production", "https://id.heady.test");
    expect(half.problems).toEqual(["OAUTH_GOOGLE_CLIENT_ID and OAUTH_GOOGLE_CLIENT_SECRET must be set together"]);
  });

  it("refuses a missing or malformed per-tenant setting, and takes the default where there is one", () => {
    const okta = loadProvidersConfig({ OAUTH_OKTA_CLIENT_ID: "x", OAUTH_OKTA_CLIENT_SECRET: "y" }, "production", "https://id.heady.test");
    expect(okta.problems).toEqual([expect.stringContaining("OAUTH_OKTA_DOMAIN must be")]);
    const shop = loadProvidersConfig(
      { OAUTH_SHOPIFY_CLIENT_ID: "x", OAUTH_SHOPIFY_CLIENT_SECRET: "y", OAUTH_SHOPIFY_SHOP: "evil.example/x" },
      "production",
      "https://id.heady.test",
    );
    expect(shop.problems).toEqual([expect.stringContaining("OAUTH_SHOPIFY_SHOP must be")]);
    const github = loadProvidersConfig(
      { OAUTH_GITHUB_HOST: "http://github.example", OAUTH_GITHUB_CLIENT_ID: "x", OAUTH_GITHUB_CLIENT_SECRET: "y" },
      "production",
      "https://id.heady.test",
    );
    expect(github.problems).toEqual([expect.stringContaining("OAUTH_GITHUB_HOST must be")]);
    expect(
      loadProvidersConfig(
        { OAUTH_MICROSOFT_CLIENT_ID: "x", OAUTH_MICROSOFT_CLIENT_SECRET: "y" },
        "production",
        "https://id.heady.test",
      ).config.enabled.get("microsoft")?.setting,
    ).toBe("common");
  });

  it("refuses plain-http (loopback) provider URLs outside a local run", () => {
    const vars = { OAUTH_OIDC_ISSUER: "http://127.0.0.1:9090", OAUTH_OIDC_CLIENT_ID: "x", OAUTH_OIDC_CLIENT_SECRET: "y" };
    for (const deployed of ["production", "development"]) {
      expect(loadProvidersConfig(vars, deployed, "https://id.heady.test").problems).toEqual([
        expect.stringContaining("OAUTH_OIDC_ISSUER must use https outside a local run"),
      ]);
    }
    expect(loadProvidersConfig(vars, "test", "https://id.heady.test").config.enabled.has("oidc")).toBe(true);
  });

  it("refuses the dev IdP outside a local run", () => {
    const vars = { OAUTH_DEV_ISSUER: "http://127.0.0.1:9090", OAUTH_DEV_CLIENT_ID: "x", OAUTH_DEV_CLIENT_SECRET: "y" };
    for (const deployed of ["production", "development"]) {
      expect(loadProvidersConfig(vars, deployed, "https://id.heady.test").problems).toEqual([
        expect.stringContaining("the dev provider is for local runs only"),
      ]);
    }
    expect(loadProvidersConfig(vars, "local", "https://id.heady.test").config.enabled.has("dev")).toBe(true);
  });

  it("refuses a redirect page whose origin may not call the API (it could not collect its tokens)", () => {
    const vars = { PROVIDER_REDIRECT_URLS: "https://elsewhere.example/done" };
    expect(loadProvidersConfig(vars, "production", "https://id.example", new Set(["https://app.example"])).problems).toEqual([
      expect.stringContaining("https://elsewhere.example is not in ALLOWED_ORIGINS"),
    ]);
    expect(loadProvidersConfig(vars, "production", "https://id.example", new Set(["https://elsewhere.example"])).problems).toEqual([]);
  });

  it("takes exact redirect URLs only, and always allows the hosted sign-in and account pages", () => {
    const good = loadProvidersConfig(
      { PROVIDER_REDIRECT_URLS: "https://app.example/done, https://admin.example/" },
      "production",
      "https://id.example",
      new Set(["https://app.example", "https://admin.example"]),
    );
    expect(good.config.redirectAllowlist).toEqual([
      "https://app.example/done",
      "https://admin.example/",
      "https://id.example/sign-in",
      "https://id.example/account",
    ]);
    for (const bad of ["https://app.example/done?x=1", "app.example/done", "https://app.example/a/../b", "https://APP.example/done"]) {
      expect(loadProvidersConfig({ PROVIDER_REDIRECT_URLS: bad }, "production", "https://id.example").problems).toHaveLength(1);
    }
  });
});

describe("Microsoft multi-tenant issuers", () => {
  const microsoft = (tenant: string) => {
    const { config } = loadProvidersConfig(
      { OAUTH_MICROSOFT_CLIENT_ID: "x", OAUTH_MICROSOFT_CLIENT_SECRET: "y", OAUTH_MICROSOFT_TENANT: tenant },
      "production",
      "https://id.example",
    );
    return config.enabled.get("microsoft")!;
  };
  const CONSUMER = "9188040d-6c67-4c5b-b112-36a304b66dad";
  const WORK = "72f988bf-86f1-41af-91ab-2d7cd011db47";

  it("common expects the token's own tenant as issuer; organizations and consumers keep to their account class", () => {
    const expected = (tenant: string, tid: string) => microsoft(tenant).definition.expectedIssuer!({ tid }, tenant);
    expect(expected("common", WORK)).toBe(`https://login.microsoftonline.com/${WORK}/v2.0`);
    expect(expected("organizations", WORK)).toBe(`https://login.microsoftonline.com/${WORK}/v2.0`);
    expect(expected("organizations", CONSUMER)).not.toContain(CONSUMER);
    expect(expected("consumers", CONSUMER)).toBe(`https://login.microsoftonline.com/${CONSUMER}/v2.0`);
    expect(expected("consumers", WORK)).not.toContain(WORK);
    expect(expected(WORK, CONSUMER)).toBe(`https://login.microsoftonline.com/${WORK}/v2.0`);
  });

  it("counts an Entra email as verified only with xms_edov", () => {
    const { definition } = microsoft("common");
    expect(
      definition.profile({
        claims: { sub: "s", email: "a@contoso.com", xms_edov: true },
        tokens: {} as never,
        setting: "common",
        getJson: async () => ({}),
      }),
    ).toMatchObject({ emailVerified: true });
    expect(
      definition.profile({
        claims: { sub: "s", email: "a@contoso.com", email_verified: true },
        tokens: {} as never,
        setting: "common",
        getJson: async () => ({}),
      }),
    ).toMatchObject({ emailVerified: false });
  });
});
