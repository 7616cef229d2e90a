import { ACCOUNT_PAGE_PATH } from "../providers/config";

/**
 * Where the sign-in page sends a person afterwards, from its `?return=` parameter: exactly the path
 * of one of the hosted pages, else the account page. So nothing a browser could resolve to another
 * origin (no open redirect), and no other same-site path either: a crafted sign-in link must not
 * land the person, signed in, on `/gw/…` or an API route.
 */
export function safeReturnPath(value: string | undefined, pagePaths: ReadonlySet<string>): string {
  return value !== undefined && pagePaths.has(value) ? value : ACCOUNT_PAGE_PATH;
}
