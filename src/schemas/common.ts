import { z } from "@hono/zod-openapi";
import { ERROR_STATUS } from "../errors";

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.enum(Object.keys(ERROR_STATUS) as [keyof typeof ERROR_STATUS]),
      message: z.string(),
      requestId: z.string(),
    }),
  })
  .openapi("Error");

/** The error responses a route can give, for its OpenAPI entry. */
export function errorResponses(...statuses: number[]) {
  const descriptions: Record<number, string> = {
    400: "Invalid input",
    401: "Missing, invalid or expired credential",
    403: "Authenticated but not allowed, or a foreign origin",
    404: "Not found",
    409: "Conflict",
    413: "Body too large",
    429: "Rate limited; see Retry-After",
  };
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      { description: descriptions[status] ?? "Error", content: { "application/json": { schema: ErrorSchema } } },
    ]),
  );
}

/** A JSON response entry for a route's OpenAPI `responses`. */
export function jsonResponse<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { "application/json": { schema } } };
}

/** A JSON request body that must be present. */
export function jsonBody<T extends z.ZodType>(schema: T) {
  return { required: true, content: { "application/json": { schema } } };
}

/** A stored time (epoch ms, or null) as the API shows it: ISO 8601, or null. */
export const isoTime = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
