import type { Config } from "../env";
import { PROMPT_VALUES } from "./authorize-request";
import { ACR_VALUES, CLAIMS_SUPPORTED } from "./claims";
import { ASSERTION_SIGNING_ALGORITHMS } from "./client-assertion";
import { GRANT_TYPES, SIGNING_ALGORITHMS, STANDARD_SCOPES, TOKEN_ENDPOINT_AUTH_METHODS } from "./client-schemas";
import { oauthEndpoints } from "./endpoints";

/**
 * The one metadata document, served both as OpenID Connect Discovery 1.0
 * (`/.well-known/openid-configuration`) and as RFC 8414 (`/.well-known/oauth-authorization-server`).
 * It advertises only what is implemented: the code flow with PKCE S256 (OAuth 2.1, no implicit or
 * hybrid), the auth methods, grants and algorithms of src/oauth/client-schemas.ts.
 */
export function discoveryDocument(config: Config) {
  const endpoints = oauthEndpoints(config);
  const authMethods = [...TOKEN_ENDPOINT_AUTH_METHODS];
  return {
    issuer: endpoints.issuer,
    authorization_endpoint: endpoints.authorization,
    token_endpoint: endpoints.token,
    userinfo_endpoint: endpoints.userinfo,
    jwks_uri: endpoints.jwks,
    revocation_endpoint: endpoints.revocation,
    introspection_endpoint: endpoints.introspection,
    end_session_endpoint: endpoints.endSession,
    scopes_supported: [...STANDARD_SCOPES],
    response_types_supported: ["code"],
    response_modes_supported: ["query"],
    grant_types_supported: [...GRANT_TYPES],
    code_challenge_methods_supported: ["S256"],
    subject_types_supported: ["public"],
    id_token_signing_alg_values_supported: [...SIGNING_ALGORITHMS],
    token_endpoint_auth_methods_supported: authMethods,
    token_endpoint_auth_signing_alg_values_supported: [...ASSERTION_SIGNING_ALGORITHMS],
    revocation_endpoint_auth_methods_supported: authMethods,
    introspection_endpoint_auth_methods_supported: authMethods.filter((method) => method !== "none"),
    claims_supported: [...CLAIMS_SUPPORTED],
    acr_values_supported: [...ACR_VALUES],
    prompt_values_supported: [...PROMPT_VALUES],
    authorization_response_iss_parameter_supported: true,
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
    claims_parameter_supported: false,
  };
}
