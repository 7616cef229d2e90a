import { exports } from "cloudflare:workers";
import * as oauth from "oauth4webapi";
import { type SignedIn, userWithRole } from "./accounts";
import { BASE_URL } from "./config";
import { request } from "./worker";

/** oauth4webapi's requests go to the Worker inside workerd, as they would over the network. */
export const viaWorker = {
  [oauth.customFetch]: (url: string, init?: RequestInit) => exports.default.fetch(new Request(url, init)),
} as const;

export const REDIRECT_URI = "https://app.heady.test/callback";
export const RESOURCE = "https://api.heady.test";

export interface RegisteredClient {
  client: oauth.Client;
  secret: string | null;
  clientAuth: oauth.ClientAuth;
}

let admin: Promise<SignedIn> | undefined;

/** Registers a client through the admin API; `fields` override the defaults of the flow tests (a confidential web app). */
export async function registerClient(fields: Record<string, unknown> = {}): Promise<RegisteredClient> {
  admin ??= userWithRole("admin");
  const created = await request("POST", "/api/admin/oauth-clients", {
    token: (await admin).accessToken,
    body: {
      name: "Test app",
      redirectUris: [REDIRECT_URI],
      audiences: [RESOURCE],
      postLogoutRedirectUris: ["https://app.heady.test/bye"],
      ...fields,
    },
  });
  if (created.status !== 201) throw new Error(`client registration answered ${created.status}: ${created.text}`);
  const { clientId, clientSecret, tokenEndpointAuthMethod, idTokenSignedResponseAlg } = created.body;
  // A private_key_jwt client's test brings its own oauth.PrivateKeyJwt (it holds the key).
  const clientAuth =
    tokenEndpointAuthMethod === "none" || tokenEndpointAuthMethod === "private_key_jwt"
      ? oauth.None()
      : tokenEndpointAuthMethod === "client_secret_post"
        ? oauth.ClientSecretPost(clientSecret)
        : oauth.ClientSecretBasic(clientSecret);
  return { client: { client_id: clientId, id_token_signed_response_alg: idTokenSignedResponseAlg }, secret: clientSecret, clientAuth };
}

export async function discover(): Promise<oauth.AuthorizationServer> {
  const issuer = new URL(BASE_URL);
  return oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: "oidc", ...viaWorker }));
}

export interface AuthorizationStart {
  url: URL;
  state: string;
  nonce: string;
  verifier: string;
}

/** An authorization request as a client builds it: PKCE S256, state, nonce; `params` add or override. */
export async function authorizationUrl(
  as: oauth.AuthorizationServer,
  client: oauth.Client,
  params: Record<string, string> = {},
): Promise<AuthorizationStart> {
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const verifier = oauth.generateRandomCodeVerifier();
  const url = new URL(as.authorization_endpoint!);
  const base = {
    response_type: "code",
    client_id: client.client_id,
    redirect_uri: REDIRECT_URI,
    scope: "openid profile email offline_access",
    state,
    nonce,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
  };
  for (const [name, value] of Object.entries({ ...base, ...params })) url.searchParams.set(name, value);
  return { url, state, nonce, verifier };
}

/** Follows an authorization request as the signed-in person's browser (same-site: the cookie is sent). */
export function authorize(url: URL | string, person: SignedIn | undefined, headers: Record<string, string> = {}) {
  const target = new URL(url);
  return request("GET", `${target.pathname}${target.search}`, { cookie: person?.cookie, headers });
}

/** Approves (or denies) the consent page of `page`'s HTML, as its form would post. */
export function decide(pageHtml: string, person: SignedIn, decision: "approve" | "deny") {
  const ticket = /name="ticket" value="([^"]+)"/.exec(pageHtml)?.[1];
  if (!ticket) throw new Error("no consent ticket on the page");
  return request("POST", "/oauth/consent", {
    cookie: person.cookie,
    rawBody: new URLSearchParams({ ticket, decision }).toString(),
    headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: BASE_URL },
  });
}

/** Sends the person through authorization (approving consent when asked) and returns the callback URL. */
export async function callbackFor(start: AuthorizationStart, person: SignedIn): Promise<URL> {
  let answer = await authorize(start.url, person);
  if (answer.status === 200 && answer.text.includes('name="ticket"')) answer = await decide(answer.text, person, "approve");
  const location = answer.headers.get("Location");
  if (!location) throw new Error(`authorization answered ${answer.status}: ${answer.text.slice(0, 300)}`);
  return new URL(location);
}
