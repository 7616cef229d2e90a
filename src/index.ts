import { createApp } from "./app";
import { runMaintenance } from "./scheduled";

export { AuditLedger } from "./durable-objects/audit-ledger";
export { AuditTally } from "./durable-objects/audit-tally";
export { MeshTopic } from "./durable-objects/mesh-topic";
export { MetricsAggregator } from "./durable-objects/metrics-aggregator";
export { RateLimiter } from "./durable-objects/rate-limiter";

const app = createApp();

export default {
  fetch: app.fetch,
  scheduled: (_controller, env) => runMaintenance(env),
} satisfies ExportedHandler<import("./env").Bindings>;
