import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { FAKE_IDP_CLIENT, type Tamper } from "./fake-idp-client";

/**
 * Two small loopback authorization servers for the workerd tests of provider sign-in, each checking
 * what a real one checks (client authentication, redirect_uri, single-use codes, PKCE S256):
 *
 * - an OIDC provider (`oidcIssuer`): discovery, JWKS, authorize, token, userinfo; RS256 ID tokens
 *   signed with jose. RFC 9207 `iss` on every authorization response.
 * - a GitHub-style OAuth 2.0 server (`githubHost`, shaped like GitHub Enterprise Server):
 *   `/login/oauth/authorize`, `/login/oauth/access_token`, then `/api/v3/user` and `/api/v3/user/emails`.
 *
 * The authorize endpoints sign the user in at once (there is no login page) as the user the test
 * describes in extra query parameters: `sub`, `email`, `email_verified`. A test that plays an
 * attacker's provider asks for a `tamper` (see `Tamper`), applied to the ID token this code yields.
 */
export { FAKE_IDP_CLIENT, type Tamper };

export interface FakeIdp {
  oidcIssuer: string;
  githubHost: string;
  close(): Promise<void>;
}

interface Grant {
  clientId: string;
  redirectUri: string;
  codeChallenge: string | undefined;
  nonce: string | undefined;
  sub: string;
  email: string | undefined;
  emailVerified: boolean;
  tamper: Tamper | undefined;
}

function s256(verifier: string): string {
  return createHash("sha256").update(verifier).digest("base64url");
}

async function readForm(request: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
  response.end(JSON.stringify(body));
}

/** client_secret_basic or client_secret_post, whichever the request used; false when wrong or missing. */
function clientAuthenticated(request: IncomingMessage, form: URLSearchParams): boolean {
  const header = request.headers.authorization;
  if (header?.startsWith("Basic ")) {
    const [id, secret] = Buffer.from(header.slice(6), "base64").toString("utf8").split(":").map(decodeURIComponent);
    return id === FAKE_IDP_CLIENT.id && secret === FAKE_IDP_CLIENT.secret;
  }
  return form.get("client_id") === FAKE_IDP_CLIENT.id && form.get("client_secret") === FAKE_IDP_CLIENT.secret;
}

/** Records a grant for an authorization request and answers the redirect back to the client. */
function authorize(url: URL, response: ServerResponse, grants: Map<string, Grant>, issuer: string | undefined): void {
  const query = url.searchParams;
  if (query.get("client_id") !== FAKE_IDP_CLIENT.id || query.get("response_type") !== "code") {
    json(response, 400, { error: "invalid_request" });
    return;
  }
  if (query.has("code_challenge") && query.get("code_challenge_method") !== "S256") {
    json(response, 400, { error: "invalid_request" });
    return;
  }
  const code = randomBytes(16).toString("base64url");
  const tamper = (query.get("tamper") ?? undefined) as Tamper | undefined;
  grants.set(code, {
    clientId: FAKE_IDP_CLIENT.id,
    redirectUri: query.get("redirect_uri")!,
    codeChallenge: query.get("code_challenge") ?? undefined,
    nonce: query.get("nonce") ?? undefined,
    sub: query.get("sub") ?? "user-1",
    email: query.get("email") ?? undefined,
    emailVerified: query.get("email_verified") === "true",
    tamper,
  });
  const back = new URL(query.get("redirect_uri")!);
  back.searchParams.set("code", code);
  if (query.has("state")) back.searchParams.set("state", query.get("state")!);
  if (issuer) back.searchParams.set("iss", tamper === "wrong_iss_param" ? "https://attacker.example" : issuer);
  response.writeHead(302, { location: back.href });
  response.end();
}

/** Takes a grant once, checking client, redirect_uri and the PKCE verifier as a real server does. */
function redeem(request: IncomingMessage, form: URLSearchParams, grants: Map<string, Grant>): Grant | { error: string } {
  if (!clientAuthenticated(request, form)) return { error: "invalid_client" };
  const code = form.get("code") ?? "";
  const grant = grants.get(code);
  grants.delete(code);
  if (!grant || form.get("grant_type") !== "authorization_code" || form.get("redirect_uri") !== grant.redirectUri)
    return { error: "invalid_grant" };
  const verifier = form.get("code_verifier");
  if (grant.codeChallenge !== undefined ? !verifier || s256(verifier) !== grant.codeChallenge : verifier !== null)
    return { error: "invalid_grant" };
  return grant;
}

async function idToken(grant: Grant, issuer: string, key: { privateKey: CryptoKey; kid: string }, otherKey: CryptoKey): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    sub: grant.sub,
    // Without the email in the ID token, the client must ask userinfo.
    ...(grant.email && grant.tamper !== "userinfo_down" ? { email: grant.email, email_verified: grant.emailVerified } : {}),
    nonce: grant.tamper === "wrong_nonce" ? "not-the-nonce" : grant.nonce,
  };
  if (grant.tamper === "alg_none") {
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
    return `${encode({ alg: "none", typ: "JWT" })}.${encode({ ...claims, iss: issuer, aud: grant.clientId, iat: now, exp: now + 300 })}.`;
  }
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "RS256", kid: key.kid, typ: "JWT" })
    .setIssuer(grant.tamper === "other_issuer" ? "https://other-issuer.example" : issuer)
    .setAudience(grant.tamper === "other_audience" ? "someone-elses-client" : grant.clientId)
    .setIssuedAt(grant.tamper === "expired" ? now - 7200 : grant.tamper === "stale_iat" ? now - 3600 : now)
    .setExpirationTime(grant.tamper === "expired" ? now - 3600 : now + 300)
    .sign(grant.tamper === "bad_signature" ? otherKey : key.privateKey);
}

/** Starts both servers on 127.0.0.1 (random ports). */
export async function startFakeIdp(): Promise<FakeIdp> {
  const signing = await generateKeyPair("RS256");
  const impostor = await generateKeyPair("RS256");
  const jwk: JWK = { ...(await exportJWK(signing.publicKey)), kid: "fake-idp-1", alg: "RS256", use: "sig" };
  const oidcGrants = new Map<string, Grant>();
  const githubGrants = new Map<string, Grant>();
  const accessTokens = new Map<string, Grant>();
  let oidcIssuer = "";
  /** Issuers `<oidcIssuer>/slow-once/<tag>` whose discovery was asked already: only the first answer waits (1.5 s). */
  const slowOnceAsked = new Set<string>();

  const oidc = createServer(async (request, response) => {
    const url = new URL(request.url!, oidcIssuer);
    const slowOnce = /^\/slow-once\/[\w-]+(?=\/\.well-known\/openid-configuration$)/.exec(url.pathname)?.[0];
    if (request.method === "GET" && slowOnce) {
      if (!slowOnceAsked.has(slowOnce)) {
        slowOnceAsked.add(slowOnce);
        await new Promise((resolve) => setTimeout(resolve, 1500));
      }
      return json(response, 200, {
        issuer: `${oidcIssuer}${slowOnce}`,
        authorization_endpoint: `${oidcIssuer}/authorize`,
        token_endpoint: `${oidcIssuer}/token`,
      });
    }
    switch (`${request.method} ${url.pathname}`) {
      case "GET /.well-known/openid-configuration":
        return json(response, 200, {
          issuer: oidcIssuer,
          authorization_endpoint: `${oidcIssuer}/authorize`,
          token_endpoint: `${oidcIssuer}/token`,
          userinfo_endpoint: `${oidcIssuer}/userinfo`,
          jwks_uri: `${oidcIssuer}/jwks`,
          response_types_supported: ["code"],
          subject_types_supported: ["public"],
          id_token_signing_alg_values_supported: ["RS256"],
          code_challenge_methods_supported: ["S256"],
          token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
          authorization_response_iss_parameter_supported: true,
        });
      case "GET /jwks":
        return json(response, 200, { keys: [jwk] });
      case "GET /authorize":
        return authorize(url, response, oidcGrants, oidcIssuer);
      case "POST /token": {
        const grant = redeem(request, await readForm(request), oidcGrants);
        if ("error" in grant) return json(response, 400, grant);
        const accessToken = randomBytes(16).toString("base64url");
        accessTokens.set(accessToken, grant);
        return json(response, 200, {
          access_token: accessToken,
          token_type: "Bearer",
          expires_in: 300,
          id_token: await idToken(grant, oidcIssuer, { privateKey: signing.privateKey, kid: jwk.kid! }, impostor.privateKey),
        });
      }
      case "GET /userinfo": {
        const grant = accessTokens.get(request.headers.authorization?.replace(/^Bearer /, "") ?? "");
        if (!grant) return json(response, 401, { error: "invalid_token" });
        if (grant.tamper === "userinfo_down") return void request.socket.destroy();
        return json(response, 200, { sub: grant.sub, ...(grant.email ? { email: grant.email, email_verified: grant.emailVerified } : {}) });
      }
      default:
        return json(response, 404, { error: "not_found" });
    }
  });

  const github = createServer(async (request, response) => {
    const url = new URL(request.url!, "http://127.0.0.1");
    const grant = accessTokens.get(request.headers.authorization?.replace(/^Bearer /, "") ?? "");
    switch (`${request.method} ${url.pathname}`) {
      case "GET /login/oauth/authorize":
        return authorize(url, response, githubGrants, undefined);
      case "POST /login/oauth/access_token": {
        const redeemed = redeem(request, await readForm(request), githubGrants);
        // GitHub answers errors with 200 and an error body when asked for JSON.
        if ("error" in redeemed) return json(response, 200, redeemed);
        const accessToken = randomBytes(16).toString("base64url");
        accessTokens.set(accessToken, redeemed);
        return json(response, 200, { access_token: accessToken, token_type: "bearer", scope: "read:user,user:email" });
      }
      case "GET /api/v3/user":
        if (!grant || grant.tamper === "api_unauthorized") {
          response.setHeader("www-authenticate", 'Bearer error="invalid_token"');
          return json(response, 401, { message: "Bad credentials" });
        }
        if (!request.headers["user-agent"]) return json(response, 403, { message: "User-Agent required" });
        return json(response, 200, { id: Number(grant.sub), login: `octo${grant.sub}`, name: "Octo Cat", email: null });
      case "GET /api/v3/user/emails":
        if (!grant) return json(response, 401, { message: "Bad credentials" });
        return json(response, 200, [
          { email: `noreply-${grant.sub}@users.noreply.example`, primary: false, verified: true },
          ...(grant.email ? [{ email: grant.email, primary: true, verified: grant.emailVerified }] : []),
        ]);
      default:
        return json(response, 404, { message: "Not Found" });
    }
  });

  const listen = (server: typeof oidc) =>
    new Promise<number>((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)));
  oidcIssuer = `http://127.0.0.1:${await listen(oidc)}`;
  const githubHost = `http://127.0.0.1:${await listen(github)}`;
  for (const server of [oidc, github]) server.unref();
  return {
    oidcIssuer,
    githubHost,
    close: () =>
      Promise.all(
        [oidc, github].map(
          (server) =>
            new Promise<void>((resolve) => {
              server.closeAllConnections();
              server.close(() => resolve());
            }),
        ),
      ).then(() => undefined),
  };
}
