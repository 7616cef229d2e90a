import * as oauth from "oauth4webapi";
import type { Config } from "../env";
import { isLocalRun } from "../platform/local-run";
import { SingleFlight } from "../platform/single-flight";
import type { EnabledProvider } from "./config";
import type { ProviderProfile } from "./definition";

/**
 * The OAuth 2.0 / OIDC client side of provider sign-in, on oauth4webapi: authorization URLs,
 * the callback's checks (RFC 9207 `iss`, `state`), the code exchange with PKCE S256, and the ID
 * token's signature (JWKS), `iss`, `aud`, `exp`, `iat` and `nonce`. Nothing here touches storage.
 */

/** Why a provider sign-in failed, as the audit trail records it. */
export type ProviderFailure =
  | "provider_error"
  | "issuer_mismatch"
  | "token_exchange_failed"
  | "id_token_invalid"
  | "provider_unreachable"
  | "profile_invalid";

/** A failed step of the protocol, with what the audit trail and the caller should hear. */
export class ProviderFlowError extends Error {
  override name = "ProviderFlowError";
  constructor(
    readonly reason: ProviderFailure,
    message: string,
    readonly detail?: string,
  ) {
    super(message);
  }
}

/** What a flow keeps between start and callback. */
export interface FlowSecrets {
  state: string;
  nonce?: string | undefined;
  codeVerifier?: string | undefined;
}

/** Plain http is allowed only to loopback in a local run: the local dev IdP and the tests. */
function insecureAllowed(config: Config, url: string): boolean {
  const { protocol, hostname } = new URL(url);
  return protocol === "http:" && (hostname === "127.0.0.1" || hostname === "localhost") && isLocalRun(config.environment);
}

/** Request options for calls to a provider: loopback http where allowed, and a bounded wait. */
function requestOptions(config: Config, url: string) {
  return { [oauth.allowInsecureRequests]: insecureAllowed(config, url), signal: AbortSignal.timeout(PROVIDER_REQUEST_TIMEOUT_MS) };
}
const PROVIDER_REQUEST_TIMEOUT_MS = 10_000;

/** Server metadata per issuer, as values: a discovery's promise belongs to the request that started it. */
const discovered = new Map<string, oauth.AuthorizationServer>();
const discovering = new SingleFlight<oauth.AuthorizationServer>(PROVIDER_REQUEST_TIMEOUT_MS + 1000);
/** JWKS per `jwks_uri`, kept per isolate; oauth4webapi refreshes it when a `kid` is unknown. */
const jwksCaches = new Map<string, oauth.JWKSCacheInput>();

async function discover(config: Config, issuer: string): Promise<oauth.AuthorizationServer> {
  const response = await oauth.discoveryRequest(new URL(issuer), { algorithm: "oidc", ...requestOptions(config, issuer) });
  // Checks that the document names exactly this issuer.
  return oauth.processDiscoveryResponse(new URL(issuer), response);
}

/** The provider's server metadata: hand-written, or discovered from its issuer (once per isolate). */
export async function authorizationServer(config: Config, provider: EnabledProvider): Promise<oauth.AuthorizationServer> {
  const { definition, setting } = provider;
  let server: oauth.AuthorizationServer;
  if (definition.server === "discovery") {
    const issuer = setting!;
    try {
      // A failed discovery is not kept: the next sign-in tries again.
      server =
        discovered.get(issuer) ??
        (await discovering.run(async () => {
          const found = await discover(config, issuer);
          discovered.set(issuer, found);
          return found;
        }, issuer));
    } catch (error) {
      throw new ProviderFlowError("provider_unreachable", "The provider's discovery document could not be read.", String(error));
    }
  } else {
    server = definition.server(setting);
  }
  const expectedIssuer = definition.expectedIssuer;
  if (!expectedIssuer) return server;
  // oauth4webapi's hook for issuers that vary per tenant (what openid-client uses for Entra).
  return {
    ...server,
    [(oauth as any)._expectedIssuer]: (result: { claims: Record<string, unknown> }) => expectedIssuer(result.claims, setting),
  };
}

/** Fresh state, nonce (OIDC) and PKCE verifier (where supported) for one flow. */
export function newFlowSecrets(provider: EnabledProvider): FlowSecrets {
  return {
    state: oauth.generateRandomState(),
    nonce: provider.definition.protocol === "oidc" ? oauth.generateRandomNonce() : undefined,
    codeVerifier: provider.definition.pkce ? oauth.generateRandomCodeVerifier() : undefined,
  };
}

/** The URL to send the browser to: response_type=code, exact redirect_uri, state, nonce, PKCE S256. */
export async function authorizationUrl(
  server: oauth.AuthorizationServer,
  provider: EnabledProvider,
  redirectUri: string,
  secrets: FlowSecrets,
): Promise<URL> {
  const url = new URL(server.authorization_endpoint!);
  url.searchParams.set("client_id", provider.clientId);
  url.searchParams.set("redirect_uri", redirectUri);
  url.searchParams.set("response_type", "code");
  if (provider.definition.scopes.length > 0) url.searchParams.set("scope", provider.definition.scopes.join(" "));
  url.searchParams.set("state", secrets.state);
  if (secrets.nonce) url.searchParams.set("nonce", secrets.nonce);
  if (secrets.codeVerifier) {
    url.searchParams.set("code_challenge", await oauth.calculatePKCECodeChallenge(secrets.codeVerifier));
    url.searchParams.set("code_challenge_method", "S256");
  }
  for (const [name, value] of Object.entries(provider.definition.authorizationParams ?? {})) url.searchParams.set(name, value);
  return url;
}

/** How much clock difference an ID token's `iat` may show, and how far before the flow it may lie. */
const CLOCK_TOLERANCE_SECONDS = 60;

/**
 * Finishes the protocol for one callback: checks the response (`iss`, `state`, provider errors),
 * exchanges the code, validates the ID token, and maps the result onto a profile.
 */
export async function completeAuthorization(
  config: Config,
  server: oauth.AuthorizationServer,
  provider: EnabledProvider,
  redirectUri: string,
  callback: URLSearchParams,
  secrets: FlowSecrets & { startedAt: number },
): Promise<ProviderProfile> {
  const { definition } = provider;
  const client: oauth.Client = { client_id: provider.clientId };
  const clientAuth =
    definition.clientAuth === "client_secret_basic"
      ? oauth.ClientSecretBasic(provider.clientSecret)
      : oauth.ClientSecretPost(provider.clientSecret);

  let params: URLSearchParams;
  try {
    params = oauth.validateAuthResponse(server, client, callback, secrets.state);
  } catch (error) {
    if (error instanceof oauth.AuthorizationResponseError) {
      throw new ProviderFlowError("provider_error", `The provider refused the sign-in (${error.error}).`, error.error_description);
    }
    throw new ProviderFlowError("issuer_mismatch", "The authorization response is not from this provider.", String(error));
  }

  const tokenEndpoint = server.token_endpoint!;
  let tokens: oauth.TokenEndpointResponse;
  let tokenResponse: Response;
  try {
    tokenResponse = await oauth.authorizationCodeGrantRequest(
      server,
      client,
      clientAuth,
      params,
      redirectUri,
      secrets.codeVerifier ?? oauth.nopkce,
      requestOptions(config, tokenEndpoint),
    );
  } catch (error) {
    throw new ProviderFlowError("provider_unreachable", "The provider could not be reached.", String(error));
  }
  try {
    tokens = await oauth.processAuthorizationCodeResponse(
      server,
      client,
      tokenResponse,
      definition.protocol === "oidc" ? { expectedNonce: secrets.nonce!, requireIdToken: true } : undefined,
    );
  } catch (error) {
    if (error instanceof oauth.ResponseBodyError) {
      throw new ProviderFlowError(
        "token_exchange_failed",
        `The provider refused the code exchange (${error.error}).`,
        error.error_description,
      );
    }
    throw new ProviderFlowError(
      definition.protocol === "oidc" ? "id_token_invalid" : "token_exchange_failed",
      "The provider's token response is not acceptable.",
      String(error),
    );
  }

  let claims: Record<string, unknown> = {};
  if (definition.protocol === "oidc") {
    claims = await validatedIdTokenClaims(config, server, tokenResponse, tokens, secrets.startedAt);
    if (claims.email === undefined && server.userinfo_endpoint) {
      claims = { ...(await userInfoClaims(config, server, client, tokens.access_token, claims.sub as string)), ...claims };
    }
  }
  const getJson = (url: string, headers: Record<string, string> = {}) => providerApiJson(config, url, tokens.access_token, headers);
  try {
    return await definition.profile({ claims, tokens, setting: provider.setting, getJson });
  } catch (error) {
    if (error instanceof ProviderFlowError) throw error;
    throw new ProviderFlowError("profile_invalid", "The provider's profile could not be read.", String(error));
  }
}

/** The ID token's signature against the provider's JWKS, plus the `iat` window oauth4webapi leaves to us. */
async function validatedIdTokenClaims(
  config: Config,
  server: oauth.AuthorizationServer,
  tokenResponse: Response,
  tokens: oauth.TokenEndpointResponse,
  startedAt: number,
): Promise<Record<string, unknown>> {
  const jwksUri = server.jwks_uri!;
  let cache = jwksCaches.get(jwksUri);
  if (!cache) {
    cache = {};
    jwksCaches.set(jwksUri, cache);
  }
  try {
    await oauth.validateApplicationLevelSignature(server, tokenResponse, { [oauth.jwksCache]: cache, ...requestOptions(config, jwksUri) });
  } catch (error) {
    throw new ProviderFlowError("id_token_invalid", "The ID token's signature is not valid.", String(error));
  }
  const claims = oauth.getValidatedIdTokenClaims(tokens)!;
  const now = Date.now() / 1000;
  // An ID token minted before this flow began, or in the future, is not an answer to this flow.
  if (claims.iat > now + CLOCK_TOLERANCE_SECONDS || claims.iat < startedAt / 1000 - CLOCK_TOLERANCE_SECONDS) {
    throw new ProviderFlowError("id_token_invalid", "The ID token was not issued for this sign-in.", `iat ${claims.iat}`);
  }
  return { ...claims };
}

/** Whether a failed call to the provider is the provider's answer (refusal, bad response) rather than no answer. */
function isProviderAnswer(error: unknown): boolean {
  return (
    error instanceof oauth.WWWAuthenticateChallengeError ||
    error instanceof oauth.ResponseBodyError ||
    error instanceof oauth.OperationProcessingError
  );
}

/** A failed call to a provider's API or userinfo: a refusal is the profile's fault (400), no answer an outage (502). */
function profileCallFailure(error: unknown, what: string): ProviderFlowError {
  return isProviderAnswer(error)
    ? new ProviderFlowError("profile_invalid", `The provider refused the ${what} request.`, String(error))
    : new ProviderFlowError("provider_unreachable", `The provider's ${what} endpoint could not be reached.`, String(error));
}

async function userInfoClaims(
  config: Config,
  server: oauth.AuthorizationServer,
  client: oauth.Client,
  accessToken: string,
  subject: string,
): Promise<Record<string, unknown>> {
  try {
    const response = await oauth.userInfoRequest(server, client, accessToken, requestOptions(config, server.userinfo_endpoint!));
    // Checks that userinfo is about the ID token's subject.
    return { ...(await oauth.processUserInfoResponse(server, client, subject, response)) };
  } catch (error) {
    throw profileCallFailure(error, "userinfo");
  }
}

/** GET one JSON resource from a provider's API with the access token. */
async function providerApiJson(config: Config, url: string, accessToken: string, headers: Record<string, string>): Promise<any> {
  let response: Response;
  try {
    response = await oauth.protectedResourceRequest(
      accessToken,
      "GET",
      new URL(url),
      // GitHub refuses API calls without a User-Agent.
      new Headers({ accept: "application/json", "user-agent": "HeadyKey-Edge", ...headers }),
      null,
      requestOptions(config, url),
    );
  } catch (error) {
    throw profileCallFailure(error, "profile API");
  }
  if (!response.ok)
    throw new ProviderFlowError(
      "profile_invalid",
      "The provider's API refused the profile request.",
      `HTTP ${response.status} from ${url}`,
    );
  try {
    return await response.json();
  } catch {
    throw new ProviderFlowError("profile_invalid", "The provider's API answered with something other than JSON.", url);
  }
}
