import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { createApp } from "../../src/app";
import type { Bindings } from "../../src/env";
import { BASE_URL } from "./config";
import { SESSION_COOKIE } from "./cookies";
import { type Handler, httpClient } from "./http";

/** The Worker under test, exactly as deployed (wrangler.toml + the test bindings, local signer). */
export const worker: Handler = (request) => exports.default.fetch(request);

/**
 * The Worker's app with other bindings (e.g. the KMS signer); one execution context per request,
 * whose background work (waitUntil) finishes before the response is handed over, as it would
 * between two requests.
 */
export function appWith(bindings: Bindings, app = createApp()): Handler {
  return async (request) => {
    const ctx = createExecutionContext();
    const response = await app.fetch(request, bindings, ctx);
    await waitOnExecutionContext(ctx);
    return response;
  };
}

/** Calls the Worker's fetch handler inside workerd (or `options.handler`), the way a client on the network would. */
export const request = httpClient({ handler: worker, baseUrl: () => BASE_URL, sessionCookie: SESSION_COOKIE });
