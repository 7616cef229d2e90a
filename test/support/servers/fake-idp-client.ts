/** What the workerd tests and the fake IdP (test/support/servers/fake-idp.ts) share; no Node imports, so workerd code can use it. */

/** How the fake OIDC provider can misbehave for one authorization code, to play an attacker's or a broken provider. */
export type Tamper =
  | "wrong_nonce"
  | "other_issuer"
  | "other_audience"
  | "expired"
  | "alg_none"
  | "stale_iat"
  | "bad_signature"
  | "wrong_iss_param"
  | "api_unauthorized"
  | "userinfo_down";

/** The client registered at both fake servers. */
export const FAKE_IDP_CLIENT = { id: "heady-test-client", secret: "heady-test-client-secret-0123456789" };
