import type { ContentfulStatusCode } from "hono/utils/http-status";

/**
 * Every error the API can answer with, and its HTTP status. The code is stable and
 * documented (docs/api.md, "Error codes"); the message is for people and may change.
 */
export const ERROR_STATUS = {
  invalid_request: 400,
  invalid_json: 400,
  weak_password: 400,
  provider_error: 400,
  invalid_email_token: 400,
  unauthorized: 401,
  invalid_credentials: 401,
  invalid_token: 401,
  invalid_refresh_token: 401,
  reauthentication_required: 401,
  pqc_required: 401,
  forbidden: 403,
  origin_not_allowed: 403,
  pqc_scope_mismatch: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  email_taken: 409,
  account_link_required: 409,
  onboarding_out_of_order: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal_error: 500,
  bad_gateway: 502,
  misconfigured: 503,
  unavailable: 503,
  gateway_timeout: 504,
} as const satisfies Record<string, ContentfulStatusCode>;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** An error with a stable code that the single error handler renders as the JSON envelope. */
export class ApiError extends Error {
  override name = "ApiError";
  readonly status: ContentfulStatusCode;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.status = ERROR_STATUS[code];
  }
}

/** The one error body shape: `{error:{code,message,requestId}}`. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; requestId: string };
}

export function errorBody(code: ErrorCode, message: string, requestId: string): ErrorBody {
  return { error: { code, message, requestId } };
}

/** The dependencies whose outage is answered 503 `unavailable` rather than 500. */
export type Dependency = "d1" | "kv" | "kms" | "rate_limiter" | "memory_store" | "embedder";

/**
 * A dependency could not serve the request (unreachable, overloaded, answering garbage): not a
 * bug, so the error handler answers 503 `unavailable` with Retry-After. Thrown by the storage
 * guards (`src/db/guard.ts`), the KMS client, the rate limiter and the memory store
 * (`src/memory/postgres.ts`) and embedder, never by route code.
 */
export class UnavailableError extends Error {
  override name = "UnavailableError";

  constructor(
    readonly dependency: Dependency,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The `UnavailableError` behind `error`, if any: drizzle, for one, wraps what D1 threw as the `cause` of its own error. */
export function unavailableCause(error: unknown): UnavailableError | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    if (current instanceof UnavailableError) return current;
  }
  return undefined;
}
