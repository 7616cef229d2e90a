import { z } from "@hono/zod-openapi";
import { ROLES } from "../identity/roles";

export const WidgetSession = z
  .object({
    token: z.string().openapi({ description: "The widget token (`typ: widget+jwt`), sent as `Authorization: Bearer` from `origin` only" }),
    tokenType: z.literal("Bearer"),
    expiresIn: z.number().int().openapi({ description: "Seconds (WIDGET_SESSION_TTL_SECONDS, default 900)" }),
    origin: z.string(),
    role: z.enum(ROLES as [string, ...string[]]).openapi({ description: "At most `user`; `guest` without a credential" }),
    sub: z.string().openapi({ description: "The user id, or `guest:<random>`" }),
  })
  .openapi("WidgetSession");
