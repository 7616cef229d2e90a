import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { loadConfig } from "../../src/env";
import { authorizationServer } from "../../src/providers/protocol";

/**
 * A provider's discovery document is fetched once per isolate, but shared by its value only: in
 * workerd a fetch's promise belongs to the request that started it, and a request that awaits it
 * fails with `Promise will never complete.` once that request is cancelled (issue 22, item 13).
 */
describe("provider discovery across requests", () => {
  afterEach(() => vi.useRealTimers());

  it("a sign-in that finds a discovery stuck past its bound discovers for itself instead of waiting on another request's fetch", async () => {
    const config = loadConfig(env);
    const oidc = config.providers.enabled.get("oidc")!;
    // The fake IdP answers this issuer's first discovery after 1.5 s, later ones at once.
    const issuer = `${env.OAUTH_OIDC_ISSUER}/slow-once/${crypto.randomUUID()}`;
    const provider = { ...oidc, setting: issuer };

    const first = authorizationServer(config, provider);
    let firstSettled = false;
    void first.finally(() => (firstSettled = true));
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 60_000); // past every bound: the first request went away

    expect((await authorizationServer(config, provider)).issuer).toBe(issuer);
    expect(firstSettled).toBe(false);
    expect((await first).issuer).toBe(issuer);
    // Later sign-ins get the value kept.
    expect((await authorizationServer(config, provider)).issuer).toBe(issuer);
  });
});
