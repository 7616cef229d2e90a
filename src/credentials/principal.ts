import type { Role } from "../identity/roles";

interface PrincipalBase {
  userId: string;
  email: string;
  role: Role;
  /** Unix seconds at which the credential stops being valid (for API keys without TTL: null). */
  expiresAt: number | null;
}

/** A person signed in through a session: by access token or by the session cookie. */
export interface SessionPrincipal extends PrincipalBase {
  kind: "access_token" | "session_cookie";
  sessionId: string;
  /** Unix ms at which the person last proved who they are in this session (sign-in or re-authentication). */
  authenticatedAt: number;
}

/** A program holding an `hdy_` API key, acting for the key's owner with the key's role and scopes. */
export interface ApiKeyPrincipal extends PrincipalBase {
  kind: "api_key";
  keyId: string;
  scopes: string[];
}

/** The holder of a PQC token (or of a reference to one), for one service and operation. */
export interface PqcPrincipal extends PrincipalBase {
  kind: "pqc_token";
  service: string;
  operation: string;
  permissions: string[];
  jti: string;
  /** The signing key's `kid`: a cached verification holds only while that key still verifies (rotation). */
  kid: string;
  /** True when the caller presented a 32-byte reference rather than the token. */
  viaReference: boolean;
}

/**
 * An embedded widget holding a widget token: for a signed-in person (role at most `user`, tied to
 * the parent session) or a guest (`userId` is `guest:<random>`, no account), from one origin.
 */
export interface WidgetPrincipal extends PrincipalBase {
  kind: "widget_token";
  origin: string;
  /** The parent session; null for a guest. */
  sessionId: string | null;
  jti: string;
}

/** Who is calling, as established by one verified credential. */
export type Principal = SessionPrincipal | ApiKeyPrincipal | PqcPrincipal | WidgetPrincipal;
