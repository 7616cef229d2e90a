/**
 * Bindings that fail the way Cloudflare's do when the service is unreachable (the messages are the
 * runtime's own). workerd's local storage cannot go down, so the outage is the one thing faked.
 */

/** Every KV read and write fails, as when KV answers 503. */
export function kvDown(): KVNamespace {
  const outage = (operation: string) => () => Promise.reject(new Error(`KV ${operation} failed: 503 Service Unavailable`));
  return {
    get: outage("GET"),
    put: outage("PUT"),
    delete: outage("DELETE"),
    list: outage("LIST"),
    getWithMetadata: outage("GET"),
  } as unknown as KVNamespace;
}
