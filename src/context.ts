import type { Auditor, RequestMeta } from "./audit/record";
import type { Principal } from "./credentials/principal";
import type { Database } from "./db/client";
import type { Bindings, Config } from "./env";
import type { Memory } from "./memory/open";

/** Typed variables every handler can read from the Hono context. */
export interface Variables {
  requestId: string;
  config: Config;
  db: Database;
  meta: RequestMeta;
  audit: Auditor;
  principal: Principal;
  /** The request's user memory: set on the /api/memory routes (src/routes/memory.ts). */
  memory: Memory;
}

export interface AppEnv {
  Bindings: Bindings;
  Variables: Variables;
}
