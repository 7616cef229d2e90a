import type { OAuthClientRow } from "../db/schema";
import { canonicalScope } from "./claims";
import { OAuthError } from "./errors";

export const PROMPT_VALUES = ["none", "login", "consent"] as const;
export type Prompt = (typeof PROMPT_VALUES)[number];

/** An authorization request that passed every check: the client and redirect URI are known good. */
export interface AuthorizeRequest {
  client: OAuthClientRow;
  redirectUri: string;
  state: string | undefined;
  scope: string;
  nonce: string | undefined;
  codeChallenge: string;
  resource: string;
  /** `none` never comes with another value; `login` and `consent` may come together. */
  prompts: ReadonlySet<Prompt>;
  maxAgeSeconds: number | undefined;
  loginHint: string | undefined;
}

/**
 * Why a request was refused. `page`: the client or redirect URI is not known good, so the error is
 * shown on our own page and never sent anywhere (RFC 6749 §4.1.2.1). `redirect`: it goes back to the
 * client's registered redirect URI.
 */
export type AuthorizeRefusal =
  | { to: "page"; error: OAuthError }
  | { to: "redirect"; redirectUri: string; state: string | undefined; error: OAuthError };

/** RFC 7636 §4.2: a base64url SHA-256 is 43 characters. */
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
const MAX_STATE = 1024;
const MAX_NONCE = 255;
const PARAMETERS = [
  "response_type",
  "client_id",
  "redirect_uri",
  "scope",
  "state",
  "nonce",
  "code_challenge",
  "code_challenge_method",
  "prompt",
  "max_age",
  "login_hint",
  "resource",
  "ui_locales",
] as const;

/**
 * Checks an authorization request (OAuth 2.1 §4.1.1, OIDC Core §3.1.2.1, RFC 7636, RFC 8707) against
 * the registered client. `findClient` looks the client up; `defaultAudience` is the audience of a
 * request that names no resource and a client that registered none.
 */
export async function checkAuthorizeRequest(
  query: URLSearchParams,
  findClient: (id: string) => Promise<OAuthClientRow | undefined>,
  defaultAudience: string,
): Promise<AuthorizeRequest | AuthorizeRefusal> {
  const page = (description: string): AuthorizeRefusal => ({ to: "page", error: new OAuthError("invalid_request", description) });
  // RFC 6749 §3.1: no parameter more than once. Checked for the two that decide where errors go first.
  for (const name of ["client_id", "redirect_uri"] as const) {
    if (query.getAll(name).length > 1) return page(`${name} is given more than once.`);
  }
  const clientId = query.get("client_id");
  if (!clientId) return page("client_id is missing.");
  const client = await findClient(clientId);
  if (!client) return page("This app is not registered with HeadyKey.");
  const redirectUri = query.get("redirect_uri");
  if (!redirectUri) return page("redirect_uri is missing.");
  // Exact string comparison (OAuth 2.1 §4.1.1.3), never a prefix or pattern.
  if (!client.redirectUris.includes(redirectUri)) return page("redirect_uri is not one this app registered.");

  const state = query.get("state") ?? undefined;
  const refuse = (code: ConstructorParameters<typeof OAuthError>[0], description: string): AuthorizeRefusal => ({
    to: "redirect",
    redirectUri,
    state: state !== undefined && state.length <= MAX_STATE ? state : undefined,
    error: new OAuthError(code, description),
  });

  for (const name of PARAMETERS) if (query.getAll(name).length > 1) return refuse("invalid_request", `${name} is given more than once.`);
  if (state !== undefined && state.length > MAX_STATE) return refuse("invalid_request", "state is too long.");
  if (query.get("response_type") !== "code") return refuse("unsupported_response_type", "Only response_type=code is supported.");
  if (!client.grantTypes.includes("authorization_code"))
    return refuse("unauthorized_client", "This app may not use the authorization code flow.");

  const codeChallenge = query.get("code_challenge");
  if (!codeChallenge) return refuse("invalid_request", "PKCE is required: code_challenge is missing.");
  if (query.get("code_challenge_method") !== "S256") return refuse("invalid_request", "code_challenge_method must be S256.");
  if (!S256_CHALLENGE.test(codeChallenge)) return refuse("invalid_request", "code_challenge is not a base64url SHA-256.");

  const requested = (query.get("scope") ?? "").split(" ").filter(Boolean);
  if (requested.length === 0) return refuse("invalid_scope", "scope is missing.");
  const forbidden = requested.filter((scope) => !client.scopes.includes(scope));
  if (forbidden.length > 0) return refuse("invalid_scope", `This app may not ask for: ${forbidden.join(", ")}.`);

  const resource = query.get("resource") ?? client.audiences[0] ?? defaultAudience;
  if (query.has("resource") && !client.audiences.includes(resource)) {
    return refuse("invalid_target", "This app may not ask for tokens for that resource.");
  }

  const nonce = query.get("nonce") ?? undefined;
  if (nonce !== undefined && (nonce.length === 0 || nonce.length > MAX_NONCE))
    return refuse("invalid_request", "nonce is empty or too long.");

  const prompts = (query.get("prompt") ?? "").split(" ").filter(Boolean);
  if (prompts.some((value) => !(PROMPT_VALUES as readonly string[]).includes(value))) {
    return refuse("invalid_request", `prompt must be one of ${PROMPT_VALUES.join(", ")}.`);
  }
  // OIDC Core §3.1.2.1: none with any other value is an error.
  if (prompts.includes("none") && prompts.length > 1) return refuse("invalid_request", "prompt=none cannot be combined.");

  const maxAge = query.get("max_age");
  if (maxAge !== null && !/^\d{1,9}$/.test(maxAge)) return refuse("invalid_request", "max_age must be a whole number of seconds.");

  return {
    client,
    redirectUri,
    state,
    scope: canonicalScope(requested),
    nonce,
    codeChallenge,
    resource,
    prompts: new Set(prompts as Prompt[]),
    maxAgeSeconds: maxAge === null ? undefined : Number(maxAge),
    loginHint: query.get("login_hint") ?? undefined,
  };
}

export function isRefusal(result: AuthorizeRequest | AuthorizeRefusal): result is AuthorizeRefusal {
  return "to" in result;
}

/** The redirect that answers an authorization request: the code or the error, `state`, and `iss` (RFC 9207). */
export function authorizationResponse(
  redirectUri: string,
  issuer: string,
  state: string | undefined,
  fields: Record<string, string>,
): string {
  const url = new URL(redirectUri);
  for (const [name, value] of Object.entries(fields)) url.searchParams.set(name, value);
  if (state !== undefined) url.searchParams.set("state", state);
  url.searchParams.set("iss", issuer);
  return url.toString();
}
