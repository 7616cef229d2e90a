import { SESSION_COOKIE } from "../identity/session-cookie";
import { PQC_HEADER } from "../pqc/credential";

/**
 * Which headers cross the gateway, in each direction.
 *
 * Hop-by-hop headers (RFC 9110 §7.6.1: `Connection` and every header it names, plus the classic
 * list) belong to one connection and are never forwarded. `X-Heady-*` is the identity layer's own
 * namespace: whatever a client puts there is a forgery (only the gateway's `X-Heady-Assertion`
 * speaks for the caller, ASVS 4.1.3), and an origin may not answer in our name either.
 * `X-Forwarded-*` and `Forwarded` from a client are claims about the network nobody checked.
 */

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

const IDENTITY_PREFIX = "x-heady-";

/** The caller's credentials, which the origin gets only when its route asks for them. */
const CREDENTIAL_HEADERS = new Set(["authorization", "x-api-key", PQC_HEADER.toLowerCase()]);

function connectionScoped(headers: Headers): Set<string> {
  const named = (headers.get("connection") ?? "")
    .split(",")
    .map((token) => token.trim().toLowerCase())
    .filter(Boolean);
  return new Set([...HOP_BY_HOP, ...named]);
}

const cookieName = (pair: string) => pair.split("=", 1)[0]!.trim();

/** `Cookie` without the session cookie; undefined when nothing else is left. */
function withoutSessionCookie(cookie: string): string | undefined {
  const kept = cookie
    .split(";")
    .map((pair) => pair.trim())
    .filter((pair) => pair !== "" && cookieName(pair) !== SESSION_COOKIE);
  return kept.length > 0 ? kept.join("; ") : undefined;
}

/**
 * The headers the origin receives: the client's, minus hop-by-hop, `Host` (set from the origin's
 * URL), every `X-Heady-*`, `X-Forwarded-*` and `Forwarded`, and, unless `forwardCredentials`,
 * `Authorization`, `X-API-Key`, `X-Heady-PQC-Token` and the session cookie (other cookies stay).
 */
export function headersForOrigin(incoming: Headers, forwardCredentials: boolean): Headers {
  const dropped = connectionScoped(incoming);
  const outgoing = new Headers();
  for (const [name, value] of incoming) {
    if (dropped.has(name) || name === "host" || name === "forwarded" || name.startsWith("x-forwarded-")) continue;
    if (CREDENTIAL_HEADERS.has(name)) {
      if (!forwardCredentials) continue;
    } else if (name.startsWith(IDENTITY_PREFIX)) {
      continue;
    }
    if (name === "cookie" && !forwardCredentials) {
      const cookie = withoutSessionCookie(value);
      if (cookie !== undefined) outgoing.append(name, cookie);
      continue;
    }
    outgoing.append(name, value);
  }
  return outgoing;
}

/**
 * The headers the client receives from the origin: minus hop-by-hop, `X-Heady-*`, and any
 * `Set-Cookie` for the session cookie (an origin behind the gateway shares our host, and must not
 * plant or clear the identity layer's session).
 */
export function headersForClient(fromOrigin: Headers): Headers {
  const dropped = connectionScoped(fromOrigin);
  const outgoing = new Headers();
  for (const [name, value] of fromOrigin) {
    if (name === "set-cookie" || dropped.has(name) || name.startsWith(IDENTITY_PREFIX)) continue;
    outgoing.append(name, value);
  }
  for (const cookie of fromOrigin.getSetCookie()) {
    if (!cookie.trimStart().startsWith(`${SESSION_COOKIE}=`)) outgoing.append("set-cookie", cookie);
  }
  return outgoing;
}
