import { requireSubject, standardClaimsProfile, stringClaim, trueClaim } from "../claims";
import type { ProviderDefinition } from "../definition";
import { OIDC_SCOPES, oauth2Server, oidcServer } from "./building-blocks";

/** Consumer sign-in: the social and media accounts people already have. */
export const SOCIAL_PROVIDERS: readonly ProviderDefinition[] = [
  {
    id: "google",
    name: "Google",
    protocol: "oidc",
    server: () =>
      oidcServer("https://accounts.google.com", {
        authorization: "https://accounts.google.com/o/oauth2/v2/auth",
        token: "https://oauth2.googleapis.com/token",
        jwks: "https://www.googleapis.com/oauth2/v3/certs",
        userinfo: "https://openidconnect.googleapis.com/v1/userinfo",
      }),
    scopes: OIDC_SCOPES,
    pkce: true,
    clientAuth: "client_secret_basic",
    profile: ({ claims }) => standardClaimsProfile(claims),
  },
  {
    id: "apple",
    name: "Apple",
    protocol: "oidc",
    server: () => oidcServer("https://appleid.apple.com", { authorization: "/auth/authorize", token: "/auth/token", jwks: "/auth/keys" }),
    scopes: ["name", "email"],
    pkce: false,
    clientAuth: "client_secret_post",
    // Apple requires form_post whenever name or email is asked for.
    authorizationParams: { response_mode: "form_post" },
    formPost: true,
    profile: ({ claims }) => standardClaimsProfile(claims),
  },
  {
    id: "discord",
    name: "Discord",
    protocol: "oauth2",
    server: () => oauth2Server("https://discord.com/oauth2/authorize", "https://discord.com/api/oauth2/token"),
    scopes: ["identify", "email"],
    pkce: true,
    clientAuth: "client_secret_post",
    async profile({ getJson }) {
      const user = await getJson("https://discord.com/api/users/@me");
      return {
        subject: requireSubject(user.id),
        email: stringClaim(user.email),
        emailVerified: trueClaim(user.verified),
        name: stringClaim(user.global_name) ?? stringClaim(user.username),
      };
    },
  },
  {
    id: "linkedin",
    name: "LinkedIn",
    protocol: "oidc",
    server: () =>
      oidcServer("https://www.linkedin.com/oauth", {
        authorization: "https://www.linkedin.com/oauth/v2/authorization",
        token: "https://www.linkedin.com/oauth/v2/accessToken",
        jwks: "https://www.linkedin.com/oauth/openid/jwks",
        userinfo: "https://api.linkedin.com/v2/userinfo",
      }),
    scopes: OIDC_SCOPES,
    pkce: false,
    clientAuth: "client_secret_post",
    profile: ({ claims }) => standardClaimsProfile(claims),
  },
  {
    id: "twitter",
    name: "X (Twitter)",
    protocol: "oauth2",
    server: () => oauth2Server("https://x.com/i/oauth2/authorize", "https://api.x.com/2/oauth2/token"),
    scopes: ["users.read", "tweet.read", "users.email"],
    pkce: true,
    clientAuth: "client_secret_basic",
    async profile({ getJson }) {
      const { data } = await getJson("https://api.x.com/2/users/me?user.fields=confirmed_email");
      // X returns only a confirmed address here.
      const email = stringClaim(data?.confirmed_email);
      return {
        subject: requireSubject(data?.id),
        email,
        emailVerified: email !== undefined,
        name: stringClaim(data?.name) ?? stringClaim(data?.username),
      };
    },
  },
  {
    id: "facebook",
    name: "Facebook",
    protocol: "oauth2",
    server: () => oauth2Server("https://www.facebook.com/v24.0/dialog/oauth", "https://graph.facebook.com/v24.0/oauth/access_token"),
    scopes: ["email", "public_profile"],
    pkce: true,
    clientAuth: "client_secret_post",
    async profile({ getJson }) {
      const user = await getJson("https://graph.facebook.com/v24.0/me?fields=id,name,email");
      // The Graph API does not say whether the address was confirmed, so it never links by itself.
      return { subject: requireSubject(user.id), email: stringClaim(user.email), emailVerified: false, name: stringClaim(user.name) };
    },
  },
  {
    id: "spotify",
    name: "Spotify",
    protocol: "oauth2",
    server: () => oauth2Server("https://accounts.spotify.com/authorize", "https://accounts.spotify.com/api/token"),
    scopes: ["user-read-email"],
    pkce: true,
    clientAuth: "client_secret_basic",
    async profile({ getJson }) {
      const user = await getJson("https://api.spotify.com/v1/me");
      // Spotify does not verify addresses.
      return {
        subject: requireSubject(user.id),
        email: stringClaim(user.email),
        emailVerified: false,
        name: stringClaim(user.display_name),
      };
    },
  },
  {
    id: "reddit",
    name: "Reddit",
    protocol: "oauth2",
    server: () => oauth2Server("https://www.reddit.com/api/v1/authorize", "https://www.reddit.com/api/v1/access_token"),
    scopes: ["identity"],
    pkce: false,
    clientAuth: "client_secret_basic",
    authorizationParams: { duration: "temporary" },
    async profile({ getJson }) {
      // Reddit shares no email: such an identity can only be linked to a signed-in account.
      const me = await getJson("https://oauth.reddit.com/api/v1/me");
      return { subject: requireSubject(me.id), emailVerified: false, name: stringClaim(me.name) };
    },
  },
  {
    id: "twitch",
    name: "Twitch",
    protocol: "oidc",
    server: () =>
      oidcServer("https://id.twitch.tv/oauth2", {
        authorization: "https://id.twitch.tv/oauth2/authorize",
        token: "https://id.twitch.tv/oauth2/token",
        jwks: "https://id.twitch.tv/oauth2/keys",
        userinfo: "https://id.twitch.tv/oauth2/userinfo",
      }),
    scopes: ["openid", "user:read:email"],
    pkce: false,
    clientAuth: "client_secret_post",
    // Twitch puts email claims in the ID token only when asked for by name.
    authorizationParams: { claims: JSON.stringify({ id_token: { email: null, email_verified: null, preferred_username: null } }) },
    profile: ({ claims }) => standardClaimsProfile(claims),
  },
];
