import { createApp } from "./app";
import { runMaintenance } from "./scheduled";

export { AuditLedger } from "./audit/ledger";
export { AuditTally } from "./audit/tally";
export { MeshTopic } from "./mesh/topic-object";
export { MetricsAggregator } from "./metrics/aggregator";
export { RateLimiter } from "./rate-limit/limiter";

const app = createApp();

export default {
  fetch: app.fetch,
  scheduled: (_controller, env) => runMaintenance(env),
} satisfies ExportedHandler<import("./env").Bindings>;
