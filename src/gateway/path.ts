/**
 * Request paths as the gateway matches them. The danger a gateway faces is a path that it and the
 * origin read differently: the gateway checks one route's policy while the origin serves another
 * route's resource (`/api/public/..%2frepo/clone`, `/api/repo;/clone` on Tomcat, `/api//repo`).
 * So paths are refused, before any matching, whenever some server could fold them into a different
 * path; what is left is compared in the most protective reading (decoded, NFKC, lower case), so
 * `/api/%72epo` and `/API/Repo` meet the rule for `/api/repo` rather than slip past it.
 */

/** A path the gateway accepts: the raw form (forwarded as is) and the keys it is matched by. */
export interface GatewayPath {
  /** The path exactly as received, percent-encoding intact, e.g. `/api/Repo/clone`. */
  raw: string;
  /** One key per segment: percent-decoded, NFKC-folded, lower-cased (`["api", "repo", "clone"]`). */
  keys: string[];
}

export type PathParse = { ok: true; path: GatewayPath } | { ok: false; reason: string };

const MALFORMED_ESCAPE = /%(?![0-9A-Fa-f]{2})/;
const ENCODED_DOT = /%2e/i;
const CONTROL = /[\u0000-\u001f\u007f]/;

function refuse(reason: string): PathParse {
  return { ok: false, reason };
}

/** The matching key of one raw segment, or why the segment is refused. */
function segmentKey(segment: string): { key: string } | { reason: string } {
  if (segment.includes("\\")) return { reason: "backslashes are not allowed in paths" };
  if (MALFORMED_ESCAPE.test(segment)) return { reason: "the path has a malformed percent-escape" };
  if (ENCODED_DOT.test(segment)) return { reason: "percent-encoded dots are not allowed in paths" };
  let decoded: string;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    return { reason: "the path is not valid percent-encoded UTF-8" };
  }
  if (decoded.includes("/") || decoded.includes("\\")) return { reason: "encoded slashes and backslashes are not allowed in paths" };
  // A `%` that survives one decoding is double encoding, which an origin that decodes twice would fold.
  if (decoded.includes("%")) return { reason: "double percent-encoding is not allowed in paths" };
  // Some servers (Tomcat, Jetty) drop `;params` from a segment, so `/repo;x/clone` would become `/repo/clone`.
  if (decoded.includes(";")) return { reason: "path parameters (;) are not allowed in paths" };
  if (CONTROL.test(decoded)) return { reason: "control characters are not allowed in paths" };
  // Full-width and compatibility forms (`．．`, `／`) fold into dots and slashes under NFKC.
  const folded = decoded.normalize("NFKC");
  if (folded === "." || folded === "..") return { reason: "dot segments (. and ..) are not allowed in paths" };
  if (folded.includes("/") || folded.includes("\\")) return { reason: "characters that fold into slashes are not allowed in paths" };
  return { key: folded.toLowerCase() };
}

/**
 * Parses a raw URL path (`URL.pathname`, still percent-encoded). Refused: empty segments (`//`),
 * `.` and `..` segments in any spelling, percent-encoded dots, slashes, backslashes or `%`,
 * path parameters (`;`), control characters and malformed escapes. One trailing slash is allowed.
 */
export function parseGatewayPath(raw: string): PathParse {
  if (!raw.startsWith("/")) return refuse("the path must start with /");
  const segments = raw.slice(1).split("/");
  if (segments.at(-1) === "") segments.pop(); // one trailing slash, or the root itself
  const keys: string[] = [];
  for (const segment of segments) {
    if (segment === "") return refuse("empty path segments (//) are not allowed");
    const result = segmentKey(segment);
    if ("reason" in result) return refuse(result.reason);
    keys.push(result.key);
  }
  return { ok: true, path: { raw, keys } };
}
