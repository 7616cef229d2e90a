import type { Hook } from "@hono/zod-openapi";
import { ApiError } from "../../errors";

/**
 * Turns a schema failure into `invalid_request` with the first issue's path and message, so
 * every route rejects bad input the same way (400, never a 500).
 */
// biome-ignore lint/suspicious/noExplicitAny: one hook serves every route, whatever its env and path types.
export const validationHook: Hook<unknown, any, any, unknown> = (result) => {
  if (result.success) return;
  const issue = result.error.issues[0];
  const where = issue?.path.length ? `${issue.path.join(".")}: ` : "";
  throw new ApiError("invalid_request", `${where}${issue?.message ?? "invalid input"}`);
};
