import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { AppEnv } from "./context";
import { ConfigError } from "./env";
import { ApiError, type Dependency, type ErrorCode, errorBody, unavailableCause } from "./errors";

/** HTTPExceptions come from Hono's own validators and middleware; map them onto our codes. */
function codeForHttpException(error: HTTPException): ErrorCode {
  switch (error.status) {
    case 400:
      return /json/i.test(error.message) ? "invalid_json" : "invalid_request";
    case 401:
      return "unauthorized";
    case 403:
      return "forbidden";
    case 404:
      return "not_found";
    case 405:
      return "method_not_allowed";
    case 413:
      return "payload_too_large";
    case 415:
      return "unsupported_media_type";
    default:
      return error.status < 500 ? "invalid_request" : "internal_error";
  }
}

/** What a caller is told when a dependency is down; the log has the dependency's own words. */
const UNAVAILABLE_MESSAGES: Record<Dependency, string> = {
  kms: "The token signer is unavailable; try again shortly.",
  d1: "The service is temporarily unavailable; try again shortly.",
  kv: "The service is temporarily unavailable; try again shortly.",
  rate_limiter: "The service is temporarily unavailable; try again shortly.",
  memory_store: "User memory is temporarily unavailable; try again shortly.",
  embedder: "User memory is temporarily unavailable; try again shortly.",
};
/** Outages of D1, KV, KMS or a Durable Object are usually over within seconds. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

/** The single error renderer: one envelope, one status table, no internal text leaked. */
export function renderError(error: Error, c: Context<AppEnv>): Response {
  const requestId = c.get("requestId") ?? crypto.randomUUID();
  if (error instanceof ApiError) {
    return c.json(errorBody(error.code, error.message, requestId), error.status, error.headers);
  }
  const unavailable = unavailableCause(error);
  if (unavailable) {
    console.error(
      JSON.stringify({ msg: "dependency unavailable", requestId, dependency: unavailable.dependency, error: unavailable.message }),
    );
    return c.json(errorBody("unavailable", UNAVAILABLE_MESSAGES[unavailable.dependency], requestId), 503, {
      "Retry-After": String(UNAVAILABLE_RETRY_AFTER_SECONDS),
    });
  }
  if (error instanceof ConfigError) {
    console.error(JSON.stringify({ msg: "configuration error", requestId, error: error.message }));
    return c.json(errorBody("misconfigured", "The service is not configured correctly.", requestId), 503);
  }
  if (error instanceof HTTPException && error.status < 500) {
    const code = codeForHttpException(error);
    const message = code === "invalid_json" ? "The request body is not valid JSON." : error.message || code;
    return c.json(errorBody(code, message, requestId), error.status as 400);
  }
  console.error(JSON.stringify({ msg: "unhandled error", requestId, error: String(error), stack: error.stack }));
  return c.json(errorBody("internal_error", "Something went wrong on our side.", requestId), 500);
}
