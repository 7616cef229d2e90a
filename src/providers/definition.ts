import type { AuthorizationServer, TokenEndpointResponse } from "oauth4webapi";

/** Who the provider says the user is, in our terms. */
export interface ProviderProfile {
  /** The provider's stable id for the user (`sub` for OIDC). Never the email, which can change hands. */
  subject: string;
  email?: string | undefined;
  /** True only when the provider itself vouches that the user controls `email`. */
  emailVerified: boolean;
  name?: string | undefined;
}

/** What a claims mapper reads from: the validated ID token (and userinfo), the token response, the provider's API. */
export interface ProfileSource {
  /** OIDC: the validated ID token's claims, completed from the userinfo endpoint when they lack the email. */
  claims: Record<string, unknown>;
  tokens: TokenEndpointResponse;
  /** The provider's per-deployment setting (tenant, domain, host, shop), when it has one. */
  setting: string | undefined;
  /** GET a JSON resource of the provider's API with the access token; anything but 2xx JSON throws. */
  getJson(url: string, headers?: Record<string, string>): Promise<any>;
}

/** A per-deployment setting a provider needs, read from `OAUTH_<PROVIDER>_<key>`. */
export interface ProviderSetting {
  key: string;
  description: string;
  /** What a valid value looks like; anything else is a configuration error. */
  pattern: RegExp;
  defaultValue?: string;
}

/**
 * One provider: its server metadata, what to ask for and how to read the answer. Adding a
 * provider is adding one of these to the registry.
 */
export interface ProviderDefinition {
  id: string;
  name: string;
  /** `oidc`: an ID token is required and validated (signature, iss, aud, exp, iat, nonce). `oauth2`: identity from an API. */
  protocol: "oidc" | "oauth2";
  setting?: ProviderSetting;
  /**
   * Hand-written server metadata (from the setting where one is needed), or `discovery`: fetched
   * from the issuer (the setting) and checked by oauth4webapi to name that same issuer.
   */
  server: ((setting: string | undefined) => AuthorizationServer) | "discovery";
  scopes: readonly string[];
  /** PKCE S256. False only for providers that do not support it; those rely on state and the client secret. */
  pkce: boolean;
  clientAuth: "client_secret_basic" | "client_secret_post";
  /** Extra authorization request parameters the provider needs. */
  authorizationParams?: Readonly<Record<string, string>>;
  /** The provider answers with an HTML form POST (Apple, when name or email is asked for). */
  formPost?: boolean;
  /** Multi-tenant issuers (Entra `common`): the `iss` an ID token must carry, derived from its own claims. */
  expectedIssuer?: (claims: Record<string, unknown>, setting: string | undefined) => string;
  /** Maps what the provider returned onto our profile. */
  profile(source: ProfileSource): ProviderProfile | Promise<ProviderProfile>;
  /** Only for local runs (the dev IdP); refused unless ENVIRONMENT is local or test (src/platform/local-run.ts). */
  developmentOnly?: boolean;
}
