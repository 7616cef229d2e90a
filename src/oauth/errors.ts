/**
 * OAuth errors (RFC 6749 §5.2 at the token endpoint, §4.1.2.1 on the redirect; RFC 6750 §3.1 at
 * userinfo): `{error, error_description}`, never the API's error envelope, since OAuth clients parse
 * this shape. Thrown inside src/oauth and answered by the routes.
 */
export type OAuthErrorCode =
  | "invalid_request"
  | "invalid_client"
  | "invalid_grant"
  | "unauthorized_client"
  | "unsupported_grant_type"
  | "unsupported_response_type"
  | "invalid_scope"
  | "invalid_target"
  | "access_denied"
  | "login_required"
  | "consent_required"
  | "invalid_token"
  | "insufficient_scope"
  | "server_error"
  | "temporarily_unavailable";

const STATUS: Partial<Record<OAuthErrorCode, 400 | 401 | 403 | 503>> = {
  invalid_client: 401,
  invalid_token: 401,
  insufficient_scope: 403,
  temporarily_unavailable: 503,
};

export class OAuthError extends Error {
  override name = "OAuthError";
  readonly status: 400 | 401 | 403 | 503;

  constructor(
    readonly code: OAuthErrorCode,
    readonly description: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(description);
    this.status = STATUS[code] ?? 400;
  }

  body(): { error: OAuthErrorCode; error_description: string } {
    return { error: this.code, error_description: this.description };
  }
}
