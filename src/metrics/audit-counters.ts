import type { AuthEvent, AuthEventType } from "../audit/event";
import { countMetric } from "./batch";
import type { CounterName, MetricLabels } from "./registry";

/** A counter with exactly the labels it takes. */
type CounterIncrement = { [N in CounterName]: [N, MetricLabels<N>] }[CounterName];

/** The counter (and its labels) each counted event type adds to. */
const COUNTED: Partial<Record<AuthEventType, CounterIncrement>> = {
  "login.succeeded": ["heady_logins_total", { result: "succeeded" }],
  "login.failed": ["heady_logins_total", { result: "failed" }],
  "provider.login_failed": ["heady_logins_total", { result: "failed" }],
  "login.rate_limited": ["heady_logins_total", { result: "rate_limited" }],
  "token.refreshed": ["heady_token_refreshes_total", { result: "succeeded" }],
  "refresh.failed": ["heady_token_refreshes_total", { result: "failed" }],
  "refresh.reuse_detected": ["heady_refresh_reuse_detected_total", {}],
  "mesh.connected": ["heady_mesh_connections_total", {}],
  "onboarding.completed": ["heady_onboarding_completions_total", {}],
  "oauth.authorization_refused": ["heady_oauth_refusals_total", { endpoint: "authorize" }],
  "oauth.token_refused": ["heady_oauth_refusals_total", { endpoint: "token" }],
  "oauth.code_replayed": ["heady_oauth_replays_total", { kind: "code" }],
  "oauth.refresh_reuse_detected": ["heady_oauth_replays_total", { kind: "refresh_token" }],
};

/**
 * The identity and mesh counters that follow from audit events: each such event is stamped
 * exactly once, wherever it happens (routes, Durable Objects), so counting it at the audit seam
 * counts every occurrence without a second call in each route.
 */
export function countAuditEvent(event: AuthEvent): void {
  if (event.type === "mesh.access_denied") {
    // `details.event` is one of the mesh's fixed event names (src/mesh/audit-events.ts).
    countMetric("heady_mesh_refusals_total", { event: String(event.details?.event ?? "unauthorized_access") });
    return;
  }
  if (event.type === "oauth.token_issued") {
    // `details.grantType` is one of the token endpoint's three grants (src/routes/oauth.tsx checks it first).
    countMetric("heady_oauth_tokens_issued_total", { grant: String(event.details?.grantType) });
    return;
  }
  const counted = COUNTED[event.type];
  if (counted) countMetric(...(counted as [CounterName, MetricLabels<CounterName>]));
}
