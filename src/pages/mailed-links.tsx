import { Field, Status } from "./components";
import { Layout } from "./layout";
import { COMMON_SCRIPT } from "./scripts/common";

/**
 * The pages mailed links open. Each reads the token from the fragment (which no server sees),
 * drops it from the address bar and history, and posts it to the API from this origin.
 */
const TAKE_TOKEN = `"use strict";
const status = document.getElementById("status");
const token = new URLSearchParams(location.hash.slice(1)).get("token");
history.replaceState(null, "", location.pathname);
`;

const VERIFY_EMAIL_SCRIPT = `${TAKE_TOKEN}
(async () => {
  if (!token) return heady.say(status, "This link carries no token. Open the link from the email again.", "error");
  const result = await heady.api("POST", "/api/auth/verify-email", { token });
  heady.say(status, result.ok ? "Your email address is confirmed." : "Not confirmed: " + heady.explain(result), result.ok ? "ok" : "error");
  status.dataset.done = String(result.ok);
})();
`;

const RESET_PASSWORD_SCRIPT = `${TAKE_TOKEN}
heady.onSubmit(document.getElementById("reset"), async (fields) => {
  if (!token) return heady.say(status, "This link carries no token. Open the link from the email again.", "error");
  const result = await heady.api("POST", "/api/auth/password/reset", { token, password: fields.password });
  heady.say(status, result.ok ? "Your password is changed, and you are signed out everywhere." : "Not changed: " + heady.explain(result), result.ok ? "ok" : "error");
  status.dataset.done = String(result.ok);
  document.getElementById("next").hidden = !result.ok;
});
`;

export function VerifyEmailPage(props: { nonce: string }) {
  return (
    <Layout title="Confirm your email" nonce={props.nonce} script={COMMON_SCRIPT + VERIFY_EMAIL_SCRIPT}>
      <Status id="status" />
      <p>
        <a href="/account">Go to your account</a>
      </p>
    </Layout>
  );
}

export function ResetPasswordPage(props: { nonce: string }) {
  return (
    <Layout title="Choose a new password" nonce={props.nonce} script={COMMON_SCRIPT + RESET_PASSWORD_SCRIPT}>
      <form id="reset" method="post" action="/api/auth/password/reset">
        <Field id="password" label="New password" type="password" autocomplete="new-password" required />
        <button type="submit">Set password</button>
      </form>
      <Status id="status" />
      <p id="next" hidden>
        <a class="button" href="/sign-in">
          Sign in with the new password
        </a>
      </p>
    </Layout>
  );
}
