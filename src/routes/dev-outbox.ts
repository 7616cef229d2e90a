import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../context";
import { outboxMessagesTo } from "../db/dev-outbox";
import { ApiError } from "../errors";
import { validationHook } from "../middleware/validation";
import { OutboxMessages, OutboxQuery } from "../schemas/account-security";
import { errorResponses, jsonResponse } from "../schemas/common";

/** The dev outbox: the mail the `outbox` transport kept, for `wrangler dev` and tests. Never in production. */
export const devOutboxRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

/** Production (or any deployment that really sends mail) answers 404, as if the route did not exist. */
const developmentOnly = createMiddleware<AppEnv>(async function developmentOnly(c, next) {
  const config = c.get("config");
  if (config.environment === "production" || config.mail.transport !== "outbox") throw new ApiError("not_found", "Not found.");
  await next();
});

devOutboxRoutes.openapi(
  createRoute({
    method: "get",
    path: "/outbox",
    tags: ["Development"],
    summary: "Mail sent to an address (development only)",
    description: "Newest first, at most 20. Exists only outside production and only with `MAIL_TRANSPORT=outbox`; elsewhere 404.",
    middleware: [developmentOnly] as const,
    request: { query: OutboxQuery },
    responses: { 200: jsonResponse(OutboxMessages, "Messages"), ...errorResponses(400, 404) },
  }),
  async (c) => {
    const { to } = c.req.valid("query");
    const rows = await outboxMessagesTo(c.get("db"), to, 20);
    return c.json(
      {
        messages: rows.map((row) => ({ id: row.id, to: row.recipient, subject: row.subject, text: row.text, html: row.html, createdAt: new Date(row.createdAt).toISOString() })),
      },
      200,
    );
  },
);
