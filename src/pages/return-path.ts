import { OAUTH_AUTHORIZE_PATH } from "../oauth/endpoints";
import { ACCOUNT_PAGE_PATH } from "../providers/config";

/** Any origin: only to resolve a relative value and see whether it stayed relative. */
const PROBE_ORIGIN = "https://return.invalid";

/**
 * Where the sign-in page sends a person afterwards, from its `?return=` parameter: exactly the path
 * of one of the hosted pages, or an authorization request (`/oauth/authorize?…`, which checks its own
 * parameters), else the account page. So nothing a browser could resolve to another origin (no open
 * redirect), and no other same-site path either: a crafted sign-in link must not land the person,
 * signed in, on `/gw/…` or an API route.
 */
export function safeReturnPath(value: string | undefined, pagePaths: ReadonlySet<string>): string {
  if (value === undefined) return ACCOUNT_PAGE_PATH;
  if (pagePaths.has(value)) return value;
  return authorizeReturn(value) ?? ACCOUNT_PAGE_PATH;
}

/** The value as the path and query of an authorization request, when it is exactly that; no fragment, no backslash, no other path. */
function authorizeReturn(value: string): string | undefined {
  if (!value.startsWith(`${OAUTH_AUTHORIZE_PATH}?`) || value.includes("\\") || value.includes("#")) return undefined;
  let url: URL;
  try {
    url = new URL(value, PROBE_ORIGIN);
  } catch {
    return undefined;
  }
  if (url.origin !== PROBE_ORIGIN || url.pathname !== OAUTH_AUTHORIZE_PATH) return undefined;
  return `${url.pathname}${url.search}`;
}
