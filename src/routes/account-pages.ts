import { Hono } from "hono";
import type { AppEnv } from "../context";
import { RESET_PASSWORD_PAGE_PATH, VERIFY_EMAIL_PAGE_PATH } from "../mail/messages";

export const ACCOUNT_PAGE_PATH = "/account";

/**
 * The hosted pages mailed links open. Each reads the token from the fragment (which no server sees),
 * drops it from the address bar and history, and posts it to the API from this origin.
 */
function page(title: string, body: string, script: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}: HeadyKey</title>
<style>
  body { font: 15px/1.5 system-ui, sans-serif; margin: 0 auto; max-width: 420px; padding: 32px 24px; color: #1b1b1f; }
  input, button { font: inherit; padding: 8px 12px; margin: 6px 0; width: 100%; box-sizing: border-box; }
  #status { color: #555; }
</style>
</head>
<body>
<h1>${title}</h1>
${body}
<p id="status"></p>
<script>
const status = document.getElementById("status");
const token = new URLSearchParams(location.hash.slice(1)).get("token");
history.replaceState(null, "", location.pathname);
async function post(path, body) {
  const response = await fetch(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const text = await response.text();
  return { ok: response.ok, body: text ? JSON.parse(text) : null };
}
${script}
</script>
</body>
</html>
`;
}

const VERIFY_EMAIL_PAGE = page(
  "Confirm your email",
  "",
  `(async () => {
  if (!token) { status.textContent = "This link carries no token."; return; }
  const result = await post("/api/auth/verify-email", { token });
  status.textContent = result.ok ? "Your email address is confirmed." : "Not confirmed: " + result.body.error.message;
  status.dataset.done = String(result.ok);
})();`,
);

const RESET_PASSWORD_PAGE = page(
  "Choose a new password",
  `<form id="reset"><label for="password">New password</label><input id="password" type="password" autocomplete="new-password" required><button type="submit">Set password</button></form>`,
  `document.getElementById("reset").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!token) { status.textContent = "This link carries no token."; return; }
  const result = await post("/api/auth/password/reset", { token, password: document.getElementById("password").value });
  status.textContent = result.ok ? "Your password is changed, and you are signed out everywhere." : "Not changed: " + result.body.error.message;
  status.dataset.done = String(result.ok);
});`,
);

/** The account page: who is signed in, their passkeys (add, remove), sign in with a passkey, sign out. */
const ACCOUNT_PAGE = page(
  "Your account",
  `<section id="signed-out" hidden><button id="passkey-sign-in" type="button">Sign in with a passkey</button></section>
<section id="signed-in" hidden><h2>Passkeys</h2><ul id="passkeys"></ul><button id="add-passkey" type="button">Add a passkey</button><button id="sign-out" type="button">Sign out</button></section>`,
  `async function api(method, path, body) {
  const response = await fetch(path, { method, headers: body ? { "content-type": "application/json" } : {}, body: body ? JSON.stringify(body) : undefined });
  const text = await response.text();
  return { ok: response.ok, body: text ? JSON.parse(text) : null };
}
const fail = (error) => { status.textContent = "Something went wrong: " + error; };
async function show() {
  const me = await api("GET", "/api/auth/me");
  document.getElementById("signed-in").hidden = !me.ok;
  document.getElementById("signed-out").hidden = me.ok;
  status.textContent = me.ok ? "Signed in as " + me.body.email : "Signed out";
  status.dataset.signedIn = me.ok ? me.body.id : "";
  if (!me.ok) return;
  const list = document.getElementById("passkeys");
  list.replaceChildren();
  for (const passkey of (await api("GET", "/api/auth/passkeys")).body.passkeys) {
    const item = document.createElement("li");
    item.textContent = passkey.name + " ";
    item.dataset.passkey = passkey.id;
    const remove = document.createElement("button");
    remove.textContent = "Remove";
    remove.addEventListener("click", () => api("DELETE", "/api/auth/passkeys/" + encodeURIComponent(passkey.id)).then(show).catch(fail));
    item.append(remove);
    list.append(item);
  }
}
document.getElementById("add-passkey").addEventListener("click", async () => {
  const started = await api("POST", "/api/auth/passkeys/register/options");
  const credential = await navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(started.body.options) });
  const done = await api("POST", "/api/auth/passkeys/register/verify", { challengeId: started.body.challengeId, response: credential.toJSON(), name: "This browser" });
  if (!done.ok) throw new Error(done.body.error.message);
  await show();
});
document.getElementById("passkey-sign-in").addEventListener("click", async () => {
  const started = await api("POST", "/api/auth/passkeys/login/options");
  const credential = await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(started.body.options) });
  const done = await api("POST", "/api/auth/passkeys/login/verify", { challengeId: started.body.challengeId, response: credential.toJSON() });
  if (!done.ok) { status.textContent = "Not signed in: " + done.body.error.message; return; }
  await show();
});
document.getElementById("sign-out").addEventListener("click", () => api("POST", "/api/auth/logout").then(show).catch(fail));
show().catch(fail);`,
);

const HEADERS = {
  "Content-Security-Policy": "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "Referrer-Policy": "no-referrer",
};

export const accountPageRoutes = new Hono<AppEnv>();
accountPageRoutes.get(VERIFY_EMAIL_PAGE_PATH, (c) => c.html(VERIFY_EMAIL_PAGE, 200, HEADERS));
accountPageRoutes.get(ACCOUNT_PAGE_PATH, (c) => c.html(ACCOUNT_PAGE, 200, HEADERS));
accountPageRoutes.get(RESET_PASSWORD_PAGE_PATH, (c) => c.html(RESET_PASSWORD_PAGE, 200, HEADERS));
