import { ApiError } from "../errors";
import type { Principal } from "./principal";

/** The kinds of verified credential a principal can come from. */
export type CredentialKind = Principal["kind"];

export const CREDENTIAL_KINDS = [
  "access_token",
  "session_cookie",
  "api_key",
  "pqc_token",
  "widget_token",
] as const satisfies readonly CredentialKind[];

/**
 * How current the state behind a session or API key must be: `bounded` may come from the isolate's
 * cache, at most REVOCATION_MAX_STALENESS_SECONDS old (verification at the edge); `current` reads D1
 * on every request (routes that change state, so a revoked credential never changes anything).
 */
export type StateFreshness = "bounded" | "current";

/** Which credential kinds a route group accepts, how fresh their state must be, and why (docs/api.md shows the same rows). */
export interface CredentialPolicy {
  accept: readonly CredentialKind[];
  state: StateFreshness;
}

interface RouteCredentials extends CredentialPolicy {
  /** The routes, as docs/api.md names them. */
  routes: string;
  why: string;
}

const SESSION = ["access_token", "session_cookie"] as const;

/**
 * The one table of who may call what, by credential kind. A person's session (access token or
 * cookie) is the general identity credential. An API key acts for its owner only where a scope
 * grants the action, or to say who it is. A PQC token is for one service operation, so it is
 * accepted only where that operation applies (`requirePQC`, the gateway's `pqc` routes) and by
 * `/api/auth/verify`, never as a session. A widget token likewise, where a row lists it (the profile,
 * and the widget's own routes), and only from its origin. Every middleware that authenticates names its row.
 */
export const ROUTE_CREDENTIALS = {
  verify: {
    routes: "`GET /api/auth/verify`",
    accept: CREDENTIAL_KINDS,
    state: "bounded",
    why: "says what a credential is and changes nothing",
  },
  profile: {
    routes: "`GET /api/auth/me`",
    accept: [...SESSION, "api_key", "widget_token"],
    state: "bounded",
    why: "the profile of the person, or of the key's owner or the widget's user (a guest widget has none: 403); no more than `/verify` already tells",
  },
  logout: {
    routes: "`POST /api/auth/logout`",
    accept: SESSION,
    state: "current",
    why: "ends a session; API keys are revoked and PQC tokens expire instead",
  },
  apiKeys: {
    routes: "`POST/GET /api/auth/api-keys`, `DELETE /api/auth/api-keys/:id`",
    accept: SESSION,
    state: "current",
    why: "a leaked key must not mint, list or revoke keys; minting one needs a recent sign-in, since a key outlives the session",
  },
  pqcIssue: {
    routes: "`POST /api/auth/request-pqc-token`",
    accept: [...SESSION, "api_key"],
    state: "current",
    why: "API keys with scope `pqc` or `pqc:<service>` (or an mTLS certificate); a PQC token never begets another",
  },
  nodeTokens: {
    routes: "`POST /api/sage/token`",
    accept: [...SESSION, "api_key"],
    state: "current",
    why: "operators and admins; API keys only with a `sage:bootstrap` scope",
  },
  admin: {
    routes: "`/api/admin/*`, `POST /api/sage/revoke`",
    accept: SESSION,
    state: "current",
    why: "administration needs a person: no scope grants it to a key",
  },
  oauthClients: {
    routes: "`/api/admin/oauth-clients`, `/api/admin/oauth-clients/:id`, `POST /api/admin/oauth-clients/:id/rotate-secret`",
    accept: SESSION,
    state: "current",
    why: "admins register the apps that sign people in through HeadyKey; a key must not mint client secrets",
  },
  audit: {
    routes: "`/api/audit/*`",
    accept: SESSION,
    state: "current",
    why: "the ledger and receipts are read by people; a key's receipts come with its responses",
  },
  metrics: {
    routes: "`GET /metrics`, `GET /metrics/pqc`",
    accept: SESSION,
    state: "current",
    why: "an admin's session, or the scraper's `METRICS_TOKEN` bearer secret (checked before any credential); no API key",
  },
  identities: {
    routes: "`GET /api/provider/identities`, `POST /api/provider/link`, `DELETE /api/provider/identities/:id`",
    accept: SESSION,
    state: "current",
    why: "adding or removing a way to sign in needs the person (a recent sign-in), never a key; a link flow ends with the session that started it",
  },
  emailVerification: {
    routes: "`POST /api/auth/verify-email/resend`",
    accept: SESSION,
    state: "current",
    why: "mail goes to the person's own address; confirming takes the mailed token itself, no credential",
  },
  passwordChange: {
    routes: "`POST /api/auth/password/change`",
    accept: SESSION,
    state: "current",
    why: "needs the current password as well; a key or PQC token never changes how a person signs in",
  },
  deviceSessions: {
    routes: "`GET /api/auth/sessions`, `DELETE /api/auth/sessions/:id`, `POST /api/auth/sessions/revoke-others`",
    accept: SESSION,
    state: "current",
    why: "a person's own sign-ins, listed and ended by that person",
  },
  reauthenticate: {
    routes: "`POST /api/auth/reauthenticate`, `POST /api/auth/reauthenticate/passkey/options`, `POST /api/auth/reauthenticate/passkey`",
    accept: SESSION,
    state: "current",
    why: "the person proves who they are again, so that this session may plant or remove a way in for a while",
  },
  mfa: {
    routes: "`GET /api/auth/mfa`, `POST /api/auth/mfa/totp/enroll`, `…/confirm`, `…/disable`",
    accept: SESSION,
    state: "current",
    why: "a second factor is the person's own; changing it needs a recent sign-in, and turning it off a fresh code as well",
  },
  passkeys: {
    routes: "`GET /api/auth/passkeys`, `POST /api/auth/passkeys/register/options`, `…/verify`, `DELETE /api/auth/passkeys/:id`",
    accept: SESSION,
    state: "current",
    why: "adding or removing a way to sign in needs the person (a recent sign-in), never a key",
  },
  onboarding: {
    routes: "`GET /onboarding/status`, `POST /onboarding/complete` (and the same under `/api/onboarding`)",
    accept: SESSION,
    state: "current",
    why: "the person's own setup; completion creates an API key, so a key must not drive it",
  },
  widgetSession: {
    routes: "`POST /api/session/start`",
    accept: SESSION,
    state: "current",
    why: "a signed-in person's widget acts as them (role at most `user`); without a credential the widget is a guest; any other credential is refused",
  },
  memoryRead: {
    routes: "`GET /api/memory`, `POST /api/memory/search`",
    accept: [...SESSION, "api_key", "widget_token"],
    state: "bounded",
    why: "a person's own memory; an API key only with scope `memory:read`, for an assistant that reads on its owner's behalf; a signed-in widget from its own origin (a guest's has no memory)",
  },
  memoryWrite: {
    routes: "`PUT /api/memory/preferences`, `POST /api/memory`, `DELETE /api/memory/:id`, `DELETE /api/memory`",
    accept: SESSION,
    state: "current",
    why: "what is remembered, and erasing it, is the person's call: no scope lets a key change it",
  },
  pqcOperation: {
    routes: "`requirePQC(service, operation)`, gateway `pqc` routes",
    accept: ["pqc_token"],
    state: "bounded",
    why: "a PQC token or reference for exactly that service and operation",
  },
  gatewayJwt: {
    routes: "gateway `jwt` routes",
    accept: SESSION,
    state: "bounded",
    why: "a signed-in person with the route's minimum role",
  },
  gatewayApiKey: {
    routes: "gateway `api_key` routes",
    accept: ["api_key"],
    state: "bounded",
    why: "an API key holding every scope the route names",
  },
} as const satisfies Record<string, RouteCredentials>;

const KIND_NAMES: Record<CredentialKind, string> = {
  access_token: "access token",
  session_cookie: "session cookie",
  api_key: "API key",
  pqc_token: "PQC token",
  widget_token: "widget token",
};

function describeKinds(kinds: readonly CredentialKind[]): string {
  return kinds.map((kind) => KIND_NAMES[kind]).join(", ");
}

/** Checks a policy when a middleware is built, so a typo cannot silently open or close a route. */
export function assertCredentialPolicy(policy: CredentialPolicy, owner: string): void {
  if (!Object.hasOwn(STATE_NAMES, policy.state)) throw new TypeError(`${owner}: state must be bounded or current`);
  if (policy.accept.length === 0 || !policy.accept.every((kind) => (CREDENTIAL_KINDS as readonly string[]).includes(kind))) {
    throw new TypeError(`${owner}: accept must list credential kinds out of ${CREDENTIAL_KINDS.join(", ")}`);
  }
}

/** True when `policy` admits credentials of this kind. */
export function acceptsKind(policy: CredentialPolicy, kind: CredentialKind): boolean {
  return policy.accept.includes(kind);
}

/** Refuses (403) a verified credential of a kind the route does not accept. */
export function assertCredentialAccepted(policy: CredentialPolicy, principal: Principal): void {
  if (acceptsKind(policy, principal.kind)) return;
  throw new ApiError(
    "forbidden",
    `This route does not accept a ${KIND_NAMES[principal.kind]}; it accepts: ${describeKinds(policy.accept)}.`,
    {
      "WWW-Authenticate": 'Bearer error="insufficient_scope"',
    },
  );
}

const STATE_NAMES: Record<StateFreshness, string> = {
  bounded: "within the bound",
  current: "at once (D1 read)",
};

/** The table as Markdown, exactly as docs/api.md carries it (a test compares the two). */
export function routeCredentialsTable(): string {
  const rows = Object.values(ROUTE_CREDENTIALS).map(
    (row) => `| ${row.routes} | ${describeKinds(row.accept)} | ${STATE_NAMES[row.state]} | ${row.why} |`,
  );
  return ["| routes | accept | a revocation elsewhere is seen | why |", "|---|---|---|---|", ...rows].join("\n");
}
