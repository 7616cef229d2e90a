import type { Context } from "hono";
import type { AppEnv } from "../context";
import { ApiError } from "../errors";

/**
 * The request's `Origin` when it may hold a widget: present and exactly one of ALLOWED_ORIGINS
 * (never the Worker's own origin, which CORS lets through, nor a missing one); 403 otherwise.
 */
export function widgetOrigin(c: Context<AppEnv>): string {
  const origin = c.req.header("Origin");
  if (origin === undefined) throw new ApiError("origin_not_allowed", "A widget needs the Origin of the page that embeds it.");
  if (!c.get("config").allowedOrigins.has(origin)) throw new ApiError("origin_not_allowed", "This origin may not embed a widget.");
  return origin;
}

/** A widget token works only from the origin it was started on (and while that origin is still allowed). */
export function assertWidgetOrigin(c: Context<AppEnv>, tokenOrigin: string): void {
  if (widgetOrigin(c) !== tokenOrigin) throw new ApiError("origin_not_allowed", "This widget token belongs to another origin.");
}
