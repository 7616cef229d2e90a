import { discoveredProvider } from "./catalog/building-blocks";
import { DEVELOPER_PROVIDERS } from "./catalog/developer";
import { ENTERPRISE_PROVIDERS } from "./catalog/enterprise";
import { SOCIAL_PROVIDERS } from "./catalog/social";
import type { ProviderDefinition } from "./definition";

/**
 * Every provider a deployment can enable (each only when `OAUTH_<ID>_CLIENT_ID` and
 * `OAUTH_<ID>_CLIENT_SECRET` are set). Endpoints are hand-written server metadata, checked against
 * each provider's documentation; OIDC providers get their ID token validated against `issuer` and
 * `jwks_uri`. docs/providers.md lists them with how each was tested.
 */
export const PROVIDERS: readonly ProviderDefinition[] = [
  ...SOCIAL_PROVIDERS,
  ...DEVELOPER_PROVIDERS,
  ...ENTERPRISE_PROVIDERS,
  discoveredProvider("oidc", "OpenID Connect", false),
  discoveredProvider("dev", "Local dev IdP", true),
];

/** The registry by id. */
export const PROVIDERS_BY_ID: ReadonlyMap<string, ProviderDefinition> = new Map(PROVIDERS.map((provider) => [provider.id, provider]));
