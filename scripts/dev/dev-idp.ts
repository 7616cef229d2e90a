// A local OpenID Provider for development and the end-to-end tests: a real `oidc-provider` (the
// certified Node implementation) on 127.0.0.1 only, with one confidential client for the Worker's
// `dev` provider. Its login page is oidc-provider's development one: any login and any password
// sign in, as the subject `<login>` with the email `<login>@dev.heady.local` (verified). Never
// expose it beyond loopback.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import Provider from "oidc-provider";

/** The email a dev login is given: the login itself when it is an address, else `<login>@dev.heady.local`. */
export function devEmail(login: string): string {
  return login.includes("@") ? login.toLowerCase() : `${login.toLowerCase()}@dev.heady.local`;
}

/**
 * Starts the IdP on 127.0.0.1:`port` (0 for a free one) for the client `{clientId, clientSecret,
 * redirectUri}`. Resolves `{issuer, close}`.
 */
export async function startDevIdp({
  port = 0,
  clientId,
  clientSecret,
  redirectUri,
}: {
  port?: number;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
}): Promise<{ issuer: string; close(): Promise<void> }> {
  const signingKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ format: "jwk" });
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [redirectUri],
        grant_types: ["authorization_code"],
        response_types: ["code"],
        token_endpoint_auth_method: "client_secret_basic",
      },
    ],
    jwks: { keys: [{ ...signingKey, kid: "dev-idp", alg: "RS256", use: "sig" }] },
    cookies: { keys: [randomBytes(32).toString("base64url")] },
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
    findAccount: (_ctx, id) => ({
      accountId: id,
      claims: () => ({ sub: id, email: devEmail(id), email_verified: true, name: id }),
    }),
    // A first-party client: consent is implied, so the dev login page is the only stop.
    async loadExistingGrant(ctx) {
      const { client, session } = ctx.oidc;
      // oidc-provider asks only for a signed-in session at a known client; the types allow neither to be missing.
      if (!client || !session) return undefined;
      const grantId = ctx.oidc.result?.consent?.grantId || session.grantIdFor(client.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
      grant.addOIDCScope("openid email profile");
      await grant.save();
      return grant;
    },
    pkce: { required: () => true },
    ttl: { AuthorizationCode: 60, Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 300, IdToken: 300 },
    features: { devInteractions: { enabled: true } },
  });
  // Plain http is fine on loopback; oidc-provider would otherwise insist on https cookies behind a proxy.
  provider.proxy = false;
  server.on("request", provider.callback());
  return {
    issuer,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// `node scripts/dev/dev-idp.ts <port> <clientId> <clientSecret> <redirectUri>` runs it on its own.
if (import.meta.url === `file://${process.argv[1]}`) {
  const [port, clientId = "", clientSecret = "", redirectUri = ""] = process.argv.slice(2);
  const { issuer } = await startDevIdp({ port: Number(port), clientId, clientSecret, redirectUri });
  console.log(`dev IdP at ${issuer} (any login and password signs in)`);
}
