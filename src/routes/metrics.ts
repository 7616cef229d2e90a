import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context, Next } from "hono";
import type { AppEnv } from "../context";
import { ROUTE_CREDENTIALS } from "../credentials/route-credentials";
import { constantTimeEqual } from "../crypto/digest";
import { utf8 } from "../crypto/encoding";
import { metricTotals } from "../metrics/batch";
import { renderPrometheus } from "../metrics/registry";
import { requireRole } from "../middleware/require-role";
import { errorResponses } from "../schemas/common";

export const metricsRoutes = new OpenAPIHono<AppEnv>();

const PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";
const adminOnly = requireRole("admin", ROUTE_CREDENTIALS.metrics);

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", utf8(text)));
}

/** True when the request's bearer is the configured `METRICS_TOKEN` (compared as digests, in constant time). */
async function presentsMetricsToken(c: Context<AppEnv>): Promise<boolean> {
  const configured = c.get("config").metricsToken;
  const bearer = /^Bearer (\S+)$/.exec(c.req.header("Authorization") ?? "")?.[1];
  if (!configured || bearer === undefined) return false;
  return constantTimeEqual(await digest(bearer), await digest(configured));
}

/** The scraper's `METRICS_TOKEN` bearer, or else an admin's session (ROUTE_CREDENTIALS.metrics). */
async function metricsReader(c: Context<AppEnv>, next: Next) {
  if (await presentsMetricsToken(c)) return next();
  return adminOnly(c, next);
}

for (const [path, pqcOnly] of [
  ["/metrics", false],
  ["/metrics/pqc", true],
] as const) {
  metricsRoutes.openapi(
    createRoute({
      method: "get",
      path,
      tags: ["Operations"],
      summary: pqcOnly ? "The PQC metrics, in the Prometheus text format" : "Every metric, in the Prometheus text format",
      description:
        "Exact totals across isolates and Durable Objects (each flushes its counts to one aggregating object in the background). Needs the `METRICS_TOKEN` bearer secret or an admin's session.",
      security: [{ bearer: [] }],
      middleware: [metricsReader] as const,
      responses: {
        200: { description: "Prometheus exposition format 0.0.4", content: { "text/plain": { schema: z.string() } } },
        ...errorResponses(401, 403),
      },
    }),
    async (c) => {
      const text = renderPrometheus(await metricTotals(c.env), { pqcOnly });
      return c.text(text, 200, { "Content-Type": PROMETHEUS_TEXT });
    },
  );
}
