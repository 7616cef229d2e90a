import { createApp } from "./app";

export { AuditLedger } from "./durable-objects/audit-ledger";
export { AuditTally } from "./durable-objects/audit-tally";
export { MeshTopic } from "./durable-objects/mesh-topic";
export { RateLimiter } from "./durable-objects/rate-limiter";

const app = createApp();

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<import("./env").Bindings>;
