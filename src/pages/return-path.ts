import { ACCOUNT_PAGE_PATH } from "../providers/config";

/**
 * Where the sign-in page sends a person afterwards, from its `?return=` parameter: a path on this
 * site only. Letters, digits, `-`, `_` and single slashes, so no `//host`, no `/\host`, no scheme,
 * no dot segments, no query: nothing a browser could resolve to another origin (no open redirect).
 */
const SAME_SITE_PATH = /^\/(?:[A-Za-z0-9_-]+(?:\/[A-Za-z0-9_-]+)*)?$/;

export function safeReturnPath(value: string | undefined): string {
  return value !== undefined && SAME_SITE_PATH.test(value) ? value : ACCOUNT_PAGE_PATH;
}
