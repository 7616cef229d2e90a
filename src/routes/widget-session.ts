import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../context";
import { ROUTE_CREDENTIALS } from "../credentials/route-credentials";
import { sessionPrincipal } from "../credentials/session-principal";
import { lowerRole } from "../identity/roles";
import { optionalPrincipal } from "../middleware/authenticate";
import { validationHook } from "../middleware/validation";
import { clientIpKey, consumeRateLimit, WIDGET_GUEST_PER_IP } from "../rate-limit/limits";
import { errorResponses, jsonResponse } from "../schemas/common";
import { widgetOrigin } from "../widget/origin";
import { WidgetSession } from "../widget/schemas";
import { issueWidgetToken, newGuestSubject, type WidgetSubject } from "../widget/token";

/** `POST /api/session/start`: short-lived widget sessions for HeadyBuddy embedded on an allowed origin. */
export const widgetSessionRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

widgetSessionRoutes.openapi(
  createRoute({
    method: "post",
    path: "/start",
    tags: ["Widget sessions"],
    summary: "Start a widget session for the embedding page's origin",
    description:
      "The request's `Origin` must be one of ALLOWED_ORIGINS (a missing one is refused too). With a session cookie or access token the widget acts as that person with the role capped at `user` and ends with that session; without a credential it is a `guest`, rate-limited per client address. The token works only from that origin and only where a route accepts widget tokens (`/api/auth/me`, `/api/auth/verify`).",
    security: [{ bearer: [] }, {}],
    responses: { 201: jsonResponse(WidgetSession, "The widget token"), ...errorResponses(401, 403, 429) },
  }),
  async (c) => {
    const origin = widgetOrigin(c);
    const caller = await optionalPrincipal(c, ROUTE_CREDENTIALS.widgetSession);
    let subject: WidgetSubject;
    if (caller) {
      const person = sessionPrincipal(c);
      subject = { sub: person.userId, role: lowerRole(person.role, "user"), origin, sessionId: person.sessionId };
    } else {
      await consumeRateLimit(c.env, WIDGET_GUEST_PER_IP, clientIpKey(c.get("meta")));
      subject = { sub: newGuestSubject(), role: "guest", origin };
    }
    const { token, expiresIn, jti } = await issueWidgetToken(c.get("config"), subject);
    await c.get("audit").record({
      type: "widget.session_started",
      subject: subject.sub,
      details: {
        origin,
        role: subject.role,
        guest: caller === undefined,
        jti,
        ...(subject.sessionId ? { sessionId: subject.sessionId } : {}),
      },
    });
    return c.json({ token, tokenType: "Bearer" as const, expiresIn, origin, role: subject.role, sub: subject.sub }, 201);
  },
);
