import type { D1Migration } from "cloudflare:test";
import type { AuditLedger } from "../src/audit/ledger";
import type { AuditTally } from "../src/audit/tally";
import type { Bindings } from "../src/env";
import type { MeshTopic } from "../src/mesh/topic-object";
import type { MetricsAggregator } from "../src/metrics/aggregator";
import type { RateLimiter } from "../src/rate-limit/limiter";

declare global {
  namespace Cloudflare {
    interface Env extends Bindings {
      /** Tests reach each Durable Object directly; the Worker's own code types them where each class lives. */
      LIMITER: DurableObjectNamespace<RateLimiter>;
      MESH_TOPIC: DurableObjectNamespace<MeshTopic>;
      LEDGER: DurableObjectNamespace<AuditLedger>;
      AUDIT_TALLY: DurableObjectNamespace<AuditTally>;
      METRICS: DurableObjectNamespace<MetricsAggregator>;
      TEST_MIGRATIONS: D1Migration[];
      /** The fake KMS (test/support/servers/fake-kms.ts, started by the global setup): its URL, key alias and test credentials. */
      TEST_KMS_ENDPOINT: string;
      TEST_KMS_KEY_ID: string;
      TEST_KMS_ACCESS_KEY_ID: string;
      TEST_KMS_SECRET_ACCESS_KEY: string;
      /** A Hyperdrive binding to a loopback port nobody listens on: user memory that is down. */
      MEMORY_DB_DOWN: Hyperdrive;
      /** A Hyperdrive binding to a loopback server that accepts and never answers: user memory that hangs. */
      MEMORY_DB_SILENT: Hyperdrive;
    }
    interface GlobalProps {
      mainModule: typeof import("../src/index");
    }
  }
}
