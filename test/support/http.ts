// No Worker imports here: the workerd tests (test/support/worker.ts) and the e2e tests against
// wrangler dev (test/support/e2e/client.ts) send their requests with this one client.
import { randomIp } from "./fresh";

/** What answers a request: the Worker's fetch handler in workerd, an app with other bindings, or the network. */
export type Handler = (request: Request) => Promise<Response>;

/** The network: for a Worker under `wrangler dev` (the e2e tests). */
export const network: Handler = (request) => fetch(request);

export interface RequestOptions {
  /** Serialised as JSON with `Content-Type: application/json` unless `rawBody` is given. */
  body?: unknown;
  /** Sent as is; no Content-Type is added (set one in `headers`). */
  rawBody?: BodyInit;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** Sent as `X-Heady-PQC-Token`. */
  pqc?: string;
  /** Sent as `X-API-Key`. */
  apiKey?: string;
  /** The value of the `__Host-heady_session` cookie. */
  cookie?: string;
  headers?: Record<string, string>;
  /** `CF-Connecting-IP`; a fresh random address when omitted, so rate limits never leak between tests. */
  ip?: string;
  /** `request.cf`, e.g. a client certificate (workerd only: the network carries no `cf`). */
  cf?: Record<string, unknown>;
  /** Who answers instead of the client's own handler (the Worker with other bindings, say). */
  handler?: Handler;
  signal?: AbortSignal;
}

export interface ApiResponse<T = any> {
  status: number;
  /** The parsed JSON body; the raw text when it is not JSON; undefined when empty. */
  body: T;
  text: string;
  headers: Headers;
}

export type Client = <T = any>(method: string, path: string, options?: RequestOptions) => Promise<ApiResponse<T>>;

export interface Target {
  handler: Handler;
  /** Where paths resolve; read at each request (the e2e base URL is only known once the global setup ran). */
  baseUrl: () => string;
  /** The session cookie's name, for the `cookie` option (the Worker's own constant, which only workerd code imports). */
  sessionCookie?: string;
}

/** A client that sends to `target` what a client on the network would. */
export function httpClient(target: Target): Client {
  return async <T>(method: string, path: string, options: RequestOptions = {}) => {
    const headers = new Headers(options.headers);
    if (!headers.has("CF-Connecting-IP")) headers.set("CF-Connecting-IP", options.ip ?? randomIp());
    if (options.token !== undefined) headers.set("Authorization", `Bearer ${options.token}`);
    if (options.pqc !== undefined) headers.set("X-Heady-PQC-Token", options.pqc);
    if (options.apiKey !== undefined) headers.set("X-API-Key", options.apiKey);
    if (options.cookie !== undefined) {
      if (target.sessionCookie === undefined) throw new Error("this client knows no session cookie: send a Cookie header");
      headers.set("Cookie", `${target.sessionCookie}=${options.cookie}`);
    }
    let body: BodyInit | undefined = options.rawBody;
    if (body === undefined && options.body !== undefined) {
      body = JSON.stringify(options.body);
      if (!headers.has("Content-Type")) headers.set("Content-Type", "application/json");
    }
    // Redirects are answers to check, not to follow (provider sign-in answers 302s).
    const init = { method, headers, body, redirect: "manual", signal: options.signal, ...(options.cf ? { cf: options.cf } : {}) };
    const request = new Request(new URL(path, target.baseUrl()), init as RequestInit);
    return readResponse<T>(await (options.handler ?? target.handler)(request));
  };
}

/** Reads a response once: JSON parsed where it is JSON, the raw text kept either way. */
export async function readResponse<T = any>(response: Response): Promise<ApiResponse<T>> {
  const text = await response.text();
  let parsed: unknown;
  if (text !== "") {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  return { status: response.status, body: parsed as T, text, headers: response.headers };
}
