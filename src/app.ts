import { OpenAPIHono } from "@hono/zod-openapi";
import { Hono } from "hono";
import type { AppEnv } from "./context";
import { renderError } from "./error-handler";
import { bodySize } from "./middleware/body-size";
import { cors } from "./middleware/cors";
import { metricsFlush } from "./middleware/metrics-flush";
import { noStore } from "./middleware/no-store";
import { requestContext } from "./middleware/request-context";
import { pageRoutes } from "./pages/routes";
import { adminRoutes } from "./routes/admin";
import { apiKeyRoutes } from "./routes/api-keys";
import { auditRoutes } from "./routes/audit";
import { authRoutes } from "./routes/auth";
import { devOutboxRoutes } from "./routes/dev-outbox";
import { deviceSessionRoutes } from "./routes/device-sessions";
import { emailVerificationRoutes } from "./routes/email-verification";
import { GATEWAY_MOUNT, gatewayRoutes } from "./routes/gateway";
import { memoryRoutes } from "./routes/memory";
import { meshRoutes } from "./routes/mesh";
import { metricsRoutes } from "./routes/metrics";
import { mfaRoutes } from "./routes/mfa";
import { nodeTokenRoutes } from "./routes/node-tokens";
import { oauthRoutes } from "./routes/oauth";
import { oauthClientRoutes } from "./routes/oauth-clients";
import { onboardingRoutes } from "./routes/onboarding";
import { passkeyRoutes } from "./routes/passkeys";
import { passwordRoutes } from "./routes/password";
import { pqcRoutes } from "./routes/pqc";
import { providerCallbackRoutes } from "./routes/provider-callback";
import { providerRoutes } from "./routes/providers";
import { reauthenticateRoutes } from "./routes/reauthenticate";
import { systemRoutes } from "./routes/system";
import { unmatchedRequest } from "./routes/unmatched";
import { wellKnownRoutes } from "./routes/well-known";
import { widgetSessionRoutes } from "./routes/widget-session";

/** No endpoint takes more than this; larger bodies get 413 before any parsing. */
export const MAX_BODY_BYTES = 64 * 1024;

/** Builds the Worker's HTTP app: middleware order, routers, the OpenAPI document, one error path. */
export function createApp() {
  const app = new OpenAPIHono<AppEnv>();

  app.use("*", metricsFlush());
  app.use("*", requestContext());
  // Before cors(): a WebSocket client must get its refusal (a foreign Origin too) as a 1008 close, not a 403 body.
  app.route("/ws/mesh", meshRoutes);
  // After the mesh (a 101 response cannot be copied to add headers), before every other route.
  app.use("*", noStore());
  // Before cors(): a form_post callback arrives with the provider's Origin; state and the browser binding protect it.
  app.route("/api/provider/callback", providerCallbackRoutes);
  app.use("*", cors());
  app.use("*", bodySize(MAX_BODY_BYTES));

  app.route("/", systemRoutes);
  app.route("/", wellKnownRoutes);
  app.route("/", oauthRoutes);
  app.route("/", metricsRoutes);
  app.route("/api/auth/api-keys", apiKeyRoutes);
  app.route("/api/auth", authRoutes);
  app.route("/api/auth", pqcRoutes);
  app.route("/api/auth", emailVerificationRoutes);
  app.route("/api/auth", mfaRoutes);
  app.route("/api/auth", passkeyRoutes);
  app.route("/api/auth", reauthenticateRoutes);
  app.route("/api/auth/password", passwordRoutes);
  app.route("/api/auth/sessions", deviceSessionRoutes);
  app.route("/api/dev", devOutboxRoutes);
  app.route("/api/admin/oauth-clients", oauthClientRoutes);
  app.route("/api/admin", adminRoutes);
  app.route("/api/sage", nodeTokenRoutes);
  app.route("/api/audit", auditRoutes);
  app.route("/api/memory", memoryRoutes);
  app.route("/api/provider", providerRoutes);
  // The card's paths for the hosted wizard, and the same handlers for API clients. The alias goes
  // through a plain Hono, which takes the handlers but not the OpenAPI entries: the reference lists
  // onboarding once, at the card's (canonical) paths.
  app.route("/onboarding", onboardingRoutes);
  app.route("/api/onboarding", new Hono<AppEnv>().route("/", onboardingRoutes));
  app.route("/api/session", widgetSessionRoutes);
  app.route("/", pageRoutes);
  app.route(GATEWAY_MOUNT, gatewayRoutes);

  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "HeadyKey Edge",
      version: "0.1.0",
      description: "The zero-trust identity layer of the Heady ecosystem. Errors are `{error:{code,message,requestId}}`.",
    },
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer", bearerFormat: "JWT" });

  app.notFound(unmatchedRequest(app));
  app.onError(renderError);
  return app;
}
