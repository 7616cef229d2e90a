import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../../context";
import { flushMetrics, hasUnflushedMetrics } from "../../metrics/batch";

/**
 * After the response is made, flushes what the request counted to the metrics aggregator in the
 * background (`waitUntil`): the response never waits for it.
 * @example app.use("*", metricsFlush())
 */
export function metricsFlush() {
  return createMiddleware<AppEnv>(async function metricsFlush(c, next) {
    await next();
    if (hasUnflushedMetrics()) c.executionCtx.waitUntil(flushMetrics(c.env));
  });
}
