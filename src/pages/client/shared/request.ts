import type { z } from "@hono/zod-openapi";
import type { ErrorBody, ErrorCode } from "../../../errors";

/**
 * A route's JSON body, as its schema in src/schemas describes it. Types only: browser code imports
 * no server module's code (scripts/build/page-scripts.ts refuses to bundle one).
 */
export type JsonOf<Schema extends z.ZodType> = z.output<Schema>;

/**
 * One answer of the JSON API, as the page scripts read it: `status` 0 when the network failed,
 * `retryAfter` in seconds (0 without the header). A success carries the route's body; a failure
 * the one error envelope, when the answer was JSON at all.
 */
export type ApiResult<Body = unknown> =
  | { ok: true; status: number; body: Body; retryAfter: number }
  | { ok: false; status: number; body: Partial<ErrorBody> | null; retryAfter: number };

/** Where the sign-in page sends a person back to (this page); the server accepts hosted pages' paths only. */
export function toSignIn(): void {
  location.assign(`/sign-in?return=${encodeURIComponent(location.pathname)}`);
}

/** Pages for a signed-in person (`<body data-session="required">`): a 401 `unauthorized` sends the person to sign in. */
const needsSession = document.body.dataset.session === "required";

/**
 * One request with the session cookie, as is. The pages without a session call it directly: none of
 * their routes asks for a recent sign-in, which `api()` handles. The session is the HttpOnly cookie:
 * nothing here stores a token, in localStorage or anywhere else.
 */
export async function send<Body = unknown>(method: string, path: string, body?: unknown): Promise<ApiResult<Body>> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    return { ok: false, status: 0, body: null, retryAfter: 0 };
  }
  const text = await response.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  const retryAfter = Number(response.headers.get("Retry-After")) || 0;
  const result: ApiResult<Body> = response.ok
    ? { ok: true, status: response.status, body: data as Body, retryAfter }
    : { ok: false, status: response.status, body: data as Partial<ErrorBody> | null, retryAfter };
  // An expired or missing session: back to sign-in, then back here.
  if (needsSession && errorCode(result) === "unauthorized") toSignIn();
  return result;
}

/** The error envelope's code, if the API answered with one. */
export function errorCode(result: ApiResult): ErrorCode | undefined {
  return result.ok ? undefined : result.body?.error?.code;
}
