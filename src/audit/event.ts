/**
 * What the audit trail records: its own module, so that everything that stamps or counts events
 * (routes, Durable Objects, the metrics counters) names the type without importing the ledger client.
 */

/** Every auth event type the system records. */
export type AuthEventType =
  | "user.registered"
  | "user.bootstrapped_admin"
  | "login.succeeded"
  | "login.failed"
  | "login.rate_limited"
  | "token.refreshed"
  | "refresh.reuse_detected"
  | "refresh.failed"
  | "logout"
  | "api_key.created"
  | "api_key.revoked"
  | "api_key.used"
  | "api_key.failed"
  | "user.role_changed"
  | "user.disabled"
  | "pqc.token_issued"
  | "mesh.node_token_issued"
  | "mesh.node_revoked"
  | "mesh.access_denied"
  | "mesh.connected"
  | "gateway.denied"
  | "provider.login_failed"
  | "provider.linked"
  | "provider.unlinked"
  | "account.planted_access_removed"
  | "email.verification_sent"
  | "email.verified"
  | "password.reset_requested"
  | "password.reset"
  | "password.changed"
  | "password.change_failed"
  | "session.revoked"
  | "session.revoked_others"
  | "session.reauthenticated"
  | "reauthentication.failed"
  | "login.mfa_required"
  | "mfa.enabled"
  | "mfa.disabled"
  | "mfa.recovery_code_used"
  | "passkey.added"
  | "passkey.removed"
  | "onboarding.stage_saved"
  | "onboarding.completed"
  | "widget.session_started"
  | "memory.deleted"
  | "memory.cleared"
  | "memory.preferences_dropped"
  | "oauth_client.created"
  | "oauth_client.updated"
  | "oauth_client.deleted"
  | "oauth_client.secret_rotated"
  | "oauth.code_issued"
  | "oauth.authorization_refused"
  | "oauth.consent_given"
  | "oauth.consent_denied"
  | "oauth.token_issued"
  | "oauth.token_refused"
  | "oauth.code_replayed"
  | "oauth.refresh_reuse_detected"
  | "oauth.token_revoked"
  | "oauth.logout";

export interface AuthEvent {
  type: AuthEventType;
  /** Who the event is about: a user id, or for unknown accounts a hash of the email. */
  subject?: string | undefined;
  /** Who caused it, when not the subject. */
  actor?: string | undefined;
  details?: Record<string, unknown>;
}
