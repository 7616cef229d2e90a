import { inject } from "vitest";
import { httpClient, network } from "../http";

/** The Worker under `wrangler dev` (the global setup's), over the network. */
export const baseUrl = () => inject("baseUrl");

/**
 * The tests' one HTTP client (test/support/http.ts) against `wrangler dev`, which passes
 * CF-Connecting-IP through: each call comes from a fresh client address unless it sets one, so the
 * per-IP rate limits of one test never spill into another.
 */
export const request = httpClient({ handler: network, baseUrl });
