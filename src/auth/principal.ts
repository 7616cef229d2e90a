import type { Role } from "./roles";

/** Who is calling, as established by one verified credential. */
export interface Principal {
  kind: "access_token" | "session_cookie";
  userId: string;
  email: string;
  role: Role;
  sessionId: string;
  /** Unix seconds at which the credential stops being valid. */
  expiresAt: number;
}
