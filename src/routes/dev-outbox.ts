import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { createMiddleware } from "hono/factory";
import { OutboxMessages, OutboxQuery } from "../account-security/schemas";
import type { AppEnv } from "../context";
import { ApiError } from "../errors";
import { outboxMessagesTo } from "../mail/dev-outbox";
import { validationHook } from "../middleware/validation";
import { isLocalRun } from "../platform/local-run";
import { errorResponses, jsonResponse } from "../schemas/common";

/** The dev outbox: the mail the `outbox` transport kept, for `npm run dev` and tests. Never in a deployment. */
export const devOutboxRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

/**
 * Anything but a local run with the outbox answers 404, as if the route did not exist. The config
 * already refuses the outbox in a deployment; this checks the run again because the route hands
 * anyone every reset link.
 */
const localOnly = createMiddleware<AppEnv>(async function localOnly(c, next) {
  const config = c.get("config");
  if (!isLocalRun(config.environment) || config.mail.transport !== "outbox") throw new ApiError("not_found", "Not found.");
  await next();
});

devOutboxRoutes.openapi(
  createRoute({
    method: "get",
    path: "/outbox",
    tags: ["Development"],
    summary: "Mail sent to an address (local runs only)",
    description:
      "Newest first, at most 20. Exists only in a local run (`ENVIRONMENT=local` or `test`) with `MAIL_TRANSPORT=outbox`; elsewhere 404.",
    middleware: [localOnly] as const,
    request: { query: OutboxQuery },
    responses: { 200: jsonResponse(OutboxMessages, "Messages"), ...errorResponses(400, 404) },
  }),
  async (c) => {
    const { to } = c.req.valid("query");
    const rows = await outboxMessagesTo(c.get("db"), to, 20);
    return c.json(
      {
        messages: rows.map((row) => ({
          id: row.id,
          to: row.recipient,
          subject: row.subject,
          text: row.text,
          html: row.html,
          createdAt: new Date(row.createdAt).toISOString(),
        })),
      },
      200,
    );
  },
);
