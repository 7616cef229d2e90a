/**
 * The gateway route table the end-to-end run gives `wrangler dev` (as `GATEWAY_ROUTES`), pointing
 * at the Node origin that test/e2e/gateway.test.ts serves on loopback. One route per policy kind,
 * plus the ones the failure cases need; `/api` is a public catch-all, so a path trick that slipped
 * past a stricter rule would land somewhere the origin answers.
 */
export function gatewayRoutesFor(origin: string) {
  const route = (prefix: string, methods: string[], require: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    prefix,
    methods,
    origin,
    require,
    ...extra,
  });
  return [
    route("/api", ["GET", "POST"], { kind: "public" }),
    route("/api/reports", ["GET"], { kind: "jwt", minRole: "operator" }),
    route("/api/sync", ["GET"], { kind: "api_key", scopes: ["sync:read"] }),
    route("/api/sync/privileged-operation", ["POST"], { kind: "pqc", service: "headyme", operation: "sync" }),
    route("/api/repo", ["GET"], { kind: "jwt", minRole: "user" }),
    route("/api/repo/clone", ["POST"], { kind: "pqc", service: "production", operation: "clone" }),
    route("/api/repo/deploy", ["POST"], { kind: "pqc", service: "production", operation: "deploy" }),
    route("/devices", ["GET"], { kind: "mtls" }),
    route("/api/limited", ["GET"], { kind: "public" }, { rateLimit: { limit: 3, windowSeconds: 60 } }),
    route("/api/slow", ["GET"], { kind: "public" }, { timeoutMs: 1000 }),
    route("/api/passthrough", ["GET"], { kind: "jwt", minRole: "user" }, { forwardCredentials: true }),
    // Port 1 (tcpmux) is closed on any machine that runs these tests: the origin is unreachable.
    { ...route("/api/unreachable", ["GET"], { kind: "public" }), origin: "http://127.0.0.1:1" },
  ];
}
