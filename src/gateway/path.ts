/**
 * Request paths as the gateway matches them. The danger a gateway faces is a path that it and the
 * origin read differently: the gateway checks one route's policy while the origin serves another
 * route's resource (`/api/public/..%2frepo/clone`, `/api/repo;/clone` on Tomcat, `/api//repo`).
 * So paths are refused, before any matching, whenever some server could fold them into a different
 * path; what is left is compared in the most protective reading (decoded, NFKC, case-folded), so
 * `/api/%72epo` and `/API/Repo` meet the rule for `/api/repo` rather than slip past it. The one
 * folding that is matched rather than refused, file suffixes (`/clone.json`), is in `./match`.
 */

/** A path the gateway accepts: the raw form (forwarded as is) and the keys it is matched by. */
export interface GatewayPath {
  /** The path exactly as received, percent-encoding intact, e.g. `/api/Repo/clone`. */
  raw: string;
  /** One key per segment: percent-decoded, NFKC-folded, case-folded (`["api", "repo", "clone"]`). */
  keys: string[];
}

export type PathParse = { ok: true; path: GatewayPath } | { ok: false; reason: string };

const MALFORMED_ESCAPE = /%(?![0-9A-Fa-f]{2})/;
const ENCODED_DOT = /%2e/i;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is this pattern's purpose.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Characters that some server folds away or reads as something else, checked on the decoded segment
 * and again after NFKC (so `％`, `；`, `？`, `：` and `．` count as their ASCII selves). Each would let a
 * spelling of a protected path miss its rule here and still be served as that path by an origin.
 */
const FOLDED_SEGMENT_RULES: ReadonlyArray<readonly [RegExp, string]> = [
  // A `%` that survives one decoding is double encoding, which an origin that decodes twice would fold.
  [/%/, "double percent-encoding is not allowed in paths"],
  // Some servers (Tomcat, Jetty) drop `;params` from a segment, so `/repo;x/clone` would become `/repo/clone`.
  [/;/, "path parameters (;) are not allowed in paths"],
  // A proxy that decodes before it splits off the query would end the path at a decoded `?` or `#`.
  [/[?#]/, "encoded ? and # are not allowed in paths"],
  [CONTROL, "control characters are not allowed in paths"],
  // Zero-width and format characters (U+200B, U+00AD, U+FEFF, bidi controls, variation selectors) are invisible and dropped by some normalisers.
  [/\p{Default_Ignorable_Code_Point}/u, "invisible characters (zero-width, soft hyphen, format controls) are not allowed in paths"],
  // NTFS alternate data streams: IIS serves `clone::$DATA` (and `dir:$i30:$INDEX_ALLOCATION`) as `clone` itself.
  [/:[:$]/, "NTFS stream names (::$DATA) are not allowed in paths"],
  // An 8.3 short name (`REPO~1`) is another name of a long one on Windows file systems.
  [/~\d/, "8.3 short names (NAME~1) are not allowed in paths"],
  // Windows drops trailing dots and spaces (`clone.`, `clone%20`); Spring's AntPathMatcher trims spaces on both sides.
  [/^\s/u, "leading spaces are not allowed in path segments"],
  [/[\s.]$/u, "trailing dots or spaces are not allowed in path segments"],
];

/**
 * Case-insensitive compares that go character by character (Java's `equalsIgnoreCase`) take `ı` and
 * `İ` for `i`, and case folding turns `ß` into `ss`; the key folds them the same way.
 */
function foldCase(segment: string): string {
  return segment
    .toLowerCase()
    .replace(/i\u0307|\u0131/g, "i")
    .replace(/\u00df/g, "ss");
}

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
  // Full-width and compatibility forms (`．．`, `／`) fold into dots and slashes under NFKC.
  const folded = decoded.normalize("NFKC");
  if (folded === "." || folded === "..") return { reason: "dot segments (. and ..) are not allowed in paths" };
  if (folded.includes("/") || folded.includes("\\")) return { reason: "characters that fold into slashes are not allowed in paths" };
  for (const [pattern, reason] of FOLDED_SEGMENT_RULES) {
    if (pattern.test(decoded) || pattern.test(folded)) return { reason };
  }
  return { key: foldCase(folded) };
}

/**
 * Parses a raw URL path (`URL.pathname`, still percent-encoded). Refused: empty segments (`//`),
 * `.` and `..` segments in any spelling, percent-encoded dots, slashes, backslashes or `%`,
 * path parameters (`;`), encoded `?`/`#`, control and invisible characters, NTFS stream names,
 * 8.3 short names, leading spaces, trailing dots or spaces, and malformed escapes. One trailing
 * slash is allowed.
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
