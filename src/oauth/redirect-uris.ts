/**
 * Which redirect URIs a client may register: exact URLs (compared as strings, never as patterns),
 * `https`, or `http` on a loopback IP literal for native apps (RFC 8252 §7.3: `127.0.0.1` or `[::1]`,
 * any port; `localhost` is refused, §8.3, since it may resolve elsewhere). No fragment (RFC 6749 §3.1.2),
 * no user info.
 */
export function redirectUriProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "is not an absolute URL";
  }
  if (url.hash !== "" || value.includes("#")) return "may not have a fragment";
  if (url.username !== "" || url.password !== "") return "may not carry user info";
  if (url.protocol === "https:") return undefined;
  if (url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname)) return undefined;
  return "must be https, or http on 127.0.0.1 or [::1] for a native app";
}

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "[::1]"]);
