import type { Context } from "hono";
import type { AppEnv } from "../context";
import { issueAccessToken } from "../credentials/access-token";
import type { SessionRow, UserRow } from "../db/schema";
import { setSessionCookie } from "./session-cookie";
import { createSession } from "./sessions";
import { isEmailVerified, publicProfile } from "./users";

/** The body every sign-in answers with: `{user, accessToken, refreshToken, expiresIn}`. */
export async function sessionTokens(c: Context<AppEnv>, user: UserRow, session: SessionRow, refreshToken: string) {
  const access = await issueAccessToken(c.get("config"), {
    userId: user.id,
    email: user.email,
    role: user.role,
    sessionId: session.id,
    emailVerified: isEmailVerified(user),
  });
  return { user: publicProfile(user), accessToken: access.token, refreshToken, expiresIn: access.expiresIn };
}

/** Starts a session for a user who just proved who they are (`amr`, RFC 8176): tokens in the body, a fresh cookie. */
export async function startSession(c: Context<AppEnv>, user: UserRow, amr: readonly string[]) {
  const { session, cookieValue, refreshToken } = await createSession(c.get("db"), { userId: user.id, client: c.get("meta"), amr });
  setSessionCookie(c, cookieValue);
  return sessionTokens(c, user, session, refreshToken);
}
