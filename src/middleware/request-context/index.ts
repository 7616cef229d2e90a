import { createMiddleware } from "hono/factory";
import { createAuditor } from "../../audit/record";
import type { AppEnv } from "../../context";
import { database } from "../../db/client";
import { loadConfig } from "../../env";

/**
 * Gives every request an id (echoed as `X-Request-Id`), the validated config, the database
 * and the client metadata the audit trail records. Config is parsed once per isolate; a
 * missing or weak secret fails here, before any route runs.
 */
export function requestContext() {
  return createMiddleware<AppEnv>(async function requestContext(c, next) {
    const requestId = crypto.randomUUID();
    c.set("requestId", requestId);
    c.header("X-Request-Id", requestId);
    c.set("config", loadConfig(c.env));
    const db = database(c.env.DB);
    const meta = {
      requestId,
      ip: c.req.header("CF-Connecting-IP") ?? undefined,
      userAgent: c.req.header("User-Agent") ?? undefined,
    };
    c.set("db", db);
    c.set("meta", meta);
    c.set(
      "audit",
      createAuditor(c.env, meta, (work) => c.executionCtx.waitUntil(work)),
    );
    await next();
  });
}
