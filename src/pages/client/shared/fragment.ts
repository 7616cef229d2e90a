/**
 * A single-use secret a link carries in its fragment (which no server sees, and Referer never has):
 * read once, then dropped from the address bar and history, so it is not left to be reused or shared.
 */
export function takeFromFragment(name: string): string | null {
  const value = new URLSearchParams(location.hash.slice(1)).get(name);
  if (value !== null) history.replaceState(null, "", location.pathname);
  return value;
}
