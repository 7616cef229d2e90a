import { ApiError } from "../errors";
import { ASSERTION_HEADER } from "./assertion-claims";
import { headersForClient, headersForOrigin } from "./headers";

/** Where a request goes: the route's origin plus the request's own raw path and query. */
export interface OriginTarget {
  origin: string;
  path: string;
  search: string;
}

/** Reads the HTTP `Retry-After` an origin sent, to keep it on our 502 (it is advice, not internals). */
const retryAfterOf = (response: Response): Record<string, string> => {
  const value = response.headers.get("Retry-After");
  return value ? { "Retry-After": value } : {};
};

/**
 * The request the origin receives: the caller's method, body and end-to-end headers (see
 * `headersForOrigin`) plus the gateway's assertion. Redirects come back to the caller rather than
 * being followed, so the assertion is never carried to wherever an origin points.
 */
export function originRequest(incoming: Request, target: OriginTarget, assertion: string, forwardCredentials: boolean): Request {
  const url = new URL(target.origin);
  // Assigned, never resolved against the origin: no path (not even `//host`) can change the host.
  url.pathname = target.path;
  url.search = target.search;
  const headers = headersForOrigin(incoming.headers, forwardCredentials);
  headers.set(ASSERTION_HEADER, assertion);
  const hasBody = incoming.method !== "GET" && incoming.method !== "HEAD";
  return new Request(url, { method: incoming.method, headers, body: hasBody ? incoming.body : null, redirect: "manual" });
}

/**
 * Sends the request and relays the origin's answer. A 2xx, 3xx or 4xx is the origin's answer to
 * the caller and passes through (minus hop-by-hop and `X-Heady-*` headers, see `headersForClient`).
 * A 5xx becomes our 502 and an unreachable origin 502, a slow one 504: the caller never sees an
 * origin's error page, which may carry a stack trace or internal names. Only the wait for the
 * answer's head is timed, so a long download that started in time is not cut off.
 */
export async function forwardToOrigin(request: Request, options: { timeoutMs: number; requestId: string }): Promise<Response> {
  const origin = new URL(request.url).origin;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs);
  let response: Response;
  try {
    response = await fetch(request, { signal: controller.signal });
  } catch (error) {
    const timedOut = controller.signal.aborted;
    console.error(
      JSON.stringify({
        msg: timedOut ? "origin timed out" : "origin unreachable",
        requestId: options.requestId,
        origin,
        error: String(error),
      }),
    );
    if (timedOut) throw new ApiError("gateway_timeout", `The origin did not answer within ${options.timeoutMs} ms.`);
    throw new ApiError("bad_gateway", "The origin could not be reached.");
  } finally {
    clearTimeout(timer);
  }
  if (response.status >= 500) {
    console.error(JSON.stringify({ msg: "origin failed", requestId: options.requestId, origin, status: response.status }));
    await response.body?.cancel();
    throw new ApiError("bad_gateway", `The origin failed to handle the request (status ${response.status}).`, retryAfterOf(response));
  }
  return new Response(response.body, {
    status: response.status,
    statusText: response.statusText,
    headers: headersForClient(response.headers),
  });
}
