import type { AuthorizationServer } from "oauth4webapi";
import { standardClaimsProfile } from "../claims";
import type { ProviderDefinition, ProviderSetting } from "../definition";

/** What the provider catalog is written with: server metadata builders, setting patterns, shared ids. */

/** Server metadata for an OIDC provider whose endpoints hang off one base URL. */
export function oidcServer(
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
export function oauth2Server(authorization: string, token: string): AuthorizationServer {
  return { issuer: new URL(authorization).origin, authorization_endpoint: authorization, token_endpoint: token };
}

export const OIDC_SCOPES = ["openid", "email", "profile"] as const;

/** A DNS host name (no scheme, no path, no port). */
export const HOST_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
/** An https base URL without path, query or credentials (http only on loopback, for local IdPs and tests). */
export const BASE_URL = /^(https:\/\/[a-z0-9.-]+(:\d{1,5})?|http:\/\/(127\.0\.0\.1|localhost)(:\d{1,5})?)$/;
/** An issuer URL: https (or loopback http) with an optional path, no query or fragment. */
export const ISSUER_URL = /^(https:\/\/[a-z0-9.-]+(:\d{1,5})?|http:\/\/(127\.0\.0\.1|localhost)(:\d{1,5})?)(\/[A-Za-z0-9._~/-]*)?$/;

export const setting = (key: string, description: string, pattern: RegExp, defaultValue?: string): ProviderSetting =>
  defaultValue === undefined ? { key, description, pattern } : { key, description, pattern, defaultValue };

/** A provider configured by its issuer URL alone (OIDC discovery). */
export function discoveredProvider(id: string, name: string, developmentOnly: boolean): ProviderDefinition {
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
