import { Hono } from "hono";
import type { AppEnv } from "../context";
import { SIGN_IN_PAGE_PATH } from "../providers/config";

/**
 * The hosted sign-in page: a button per enabled provider (the GET form of /api/provider/start),
 * and, when a provider sign-in comes back with `#ticket=…`, the exchange of that ticket for the
 * tokens. It is also the default `redirectTo`, so a deployment works without a page of its own.
 */
const SIGN_IN_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in: HeadyKey</title>
<style>
  body { font: 15px/1.5 system-ui, sans-serif; margin: 0 auto; max-width: 420px; padding: 32px 24px; color: #1b1b1f; }
  a.provider { display: block; border: 1px solid #ccc; border-radius: 8px; padding: 10px 14px; margin: 8px 0; color: inherit; text-decoration: none; }
  #status { color: #555; }
</style>
</head>
<body>
<h1>Sign in</h1>
<p id="status">Loading…</p>
<nav id="providers"></nav>
<script>
(async () => {
  const status = document.getElementById("status");
  const ticket = new URLSearchParams(location.hash.slice(1)).get("ticket");
  if (ticket) {
    // The ticket is single-use: drop it from the address bar and history first.
    history.replaceState(null, "", location.pathname);
    const response = await fetch("/api/provider/tokens", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ ticket }) });
    const body = await response.json();
    status.textContent = response.ok ? "Signed in as " + body.user.email : "Sign-in failed: " + body.error.message;
    if (response.ok) status.dataset.signedIn = body.user.id;
    return;
  }
  const { providers } = await (await fetch("/api/provider/list")).json();
  status.textContent = providers.length ? "Choose a provider:" : "No sign-in provider is enabled.";
  const nav = document.getElementById("providers");
  for (const provider of providers) {
    const link = document.createElement("a");
    link.className = "provider";
    link.href = provider.startUrl;
    link.textContent = "Continue with " + provider.name;
    link.dataset.provider = provider.id;
    nav.append(link);
  }
})().catch((error) => { document.getElementById("status").textContent = "Something went wrong: " + error; });
</script>
</body>
</html>
`;

export const signInPageRoutes = new Hono<AppEnv>();

signInPageRoutes.get(SIGN_IN_PAGE_PATH, (c) =>
  c.html(SIGN_IN_PAGE, 200, {
    "Content-Security-Policy": "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'none'",
    // The ticket in the fragment never reaches a server, but keep the page's URL out of Referer anyway.
    "Referrer-Policy": "no-referrer",
  }),
);
