import type { Config } from "../env";

/** Where the provider's routes are mounted (src/app.ts); discovery and the tokens name them from here. */
export const OAUTH_MOUNT = "/oauth";
/** The authorization endpoint's path: the one place besides the hosted pages that sign-in may return to. */
export const OAUTH_AUTHORIZE_PATH = `${OAUTH_MOUNT}/authorize`;

export interface OAuthEndpoints {
  issuer: string;
  authorization: string;
  token: string;
  userinfo: string;
  revocation: string;
  introspection: string;
  endSession: string;
  jwks: string;
}

/** The provider's URLs: `iss` is ISSUER, the endpoints are where browsers and clients reach the Worker. */
export function oauthEndpoints(config: Config): OAuthEndpoints {
  const base = `${config.providers.publicUrl}${OAUTH_MOUNT}`;
  return {
    issuer: config.issuer,
    authorization: `${config.providers.publicUrl}${OAUTH_AUTHORIZE_PATH}`,
    token: `${base}/token`,
    userinfo: `${base}/userinfo`,
    revocation: `${base}/revoke`,
    introspection: `${base}/introspect`,
    endSession: `${base}/logout`,
    jwks: `${config.providers.publicUrl}/.well-known/jwks.json`,
  };
}
