import { z } from "@hono/zod-openapi";

const ProviderId = z
  .string()
  .min(1)
  .max(32)
  .regex(/^[a-z0-9]+$/, "provider must be a provider id such as google")
  .openapi({ example: "google" });
const RedirectTo = z.string().max(2048).optional().openapi({
  description: "Where to send the browser afterwards: exactly one of the allowlisted URLs (origin and path). Defaults to the first.",
  example: "https://app.heady.systems/signed-in",
});

export const StartBody = z.object({ provider: ProviderId, redirectTo: RedirectTo }).openapi("ProviderStartBody");
export const StartQuery = z.object({ provider: ProviderId, redirectTo: RedirectTo });
export const AuthorizationUrl = z.object({ authorizationUrl: z.url() }).openapi("ProviderAuthorizationUrl");
export const ProviderParam = z.object({ provider: ProviderId.openapi({ param: { name: "provider", in: "path" } }) });
export const IdentityParam = z.object({ id: z.uuid().openapi({ param: { name: "id", in: "path" } }) });

export const ProviderList = z
  .object({
    providers: z.array(
      z.object({
        id: z.string(),
        name: z.string(),
        protocol: z.enum(["oidc", "oauth2"]),
        pkce: z.boolean().openapi({ description: "PKCE S256 is used; false only where the provider does not support it" }),
        startUrl: z.string().openapi({ description: "The GET form of /api/provider/start for this provider, for a page's button" }),
      }),
    ),
  })
  .openapi("ProviderList");

export const TicketBody = z
  .object({ ticket: z.string().regex(/^[A-Za-z0-9_-]{43}$/, "ticket must be the value the callback put in the URL fragment") })
  .openapi("ProviderTicketBody");

export const IdentityList = z
  .object({
    identities: z.array(
      z.object({
        id: z.string(),
        provider: z.string(),
        subject: z.string(),
        email: z.string().nullable(),
        emailVerified: z.boolean(),
        createdAt: z.string(),
        lastSignInAt: z.string().nullable(),
      }),
    ),
    hasPassword: z.boolean(),
  })
  .openapi("IdentityList");
