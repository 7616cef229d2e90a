import type { Bindings, Config } from "./env";
import type { Database } from "./db/client";
import type { Principal } from "./auth/principal";
import type { Auditor, RequestMeta } from "./audit/record";

/** Typed variables every handler can read from the Hono context. */
export interface Variables {
  requestId: string;
  config: Config;
  db: Database;
  meta: RequestMeta;
  audit: Auditor;
  principal: Principal;
}

export interface AppEnv {
  Bindings: Bindings;
  Variables: Variables;
}
