import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../context";
import { guardD1 } from "../db/guard";

export const systemRoutes = new OpenAPIHono<AppEnv>();

const Health = z.object({ status: z.literal("ok"), database: z.literal("ok"), time: z.string() }).openapi("Health");

systemRoutes.openapi(
  createRoute({
    method: "get",
    path: "/health",
    tags: ["System"],
    summary: "Liveness, including a round trip to D1",
    responses: {
      200: { description: "Healthy", content: { "application/json": { schema: Health } } },
      503: { description: "D1 is unavailable" },
    },
  }),
  async (c) => {
    await guardD1(c.env.DB).prepare("SELECT 1").first();
    return c.json({ status: "ok" as const, database: "ok" as const, time: new Date().toISOString() }, 200);
  },
);

/** The cheapest route through the full middleware stack: the ceiling every benchmark ratio is taken against. */
systemRoutes.get("/ping", (c) => c.text("pong"));
