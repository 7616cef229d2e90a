import type { Role } from "./roles";

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
}

/** A program holding an `hdy_` API key, acting for the key's owner with the key's role and scopes. */
export interface ApiKeyPrincipal extends PrincipalBase {
  kind: "api_key";
  keyId: string;
  scopes: string[];
}

/** Who is calling, as established by one verified credential. */
export type Principal = SessionPrincipal | ApiKeyPrincipal;
