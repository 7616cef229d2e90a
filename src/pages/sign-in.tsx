import { Field, Status } from "./components";
import { Layout } from "./layout";
import { COMMON_SCRIPT } from "./scripts/common";

/**
 * Password sign-in (with the TOTP, recovery-code or passkey step when the account has MFA),
 * passkey sign-in, and one button per enabled provider. A provider sign-in comes back here with
 * `#ticket=…`, which the script drops from the address bar and exchanges, once, for the session,
 * or, when the account has a second factor, for the same MFA step a password login goes on to.
 */
const SIGN_IN_SCRIPT = `"use strict";
const form = document.getElementById("sign-in");
const mfaForm = document.getElementById("mfa");
const status = document.getElementById("status");
const returnTo = form.dataset.return;
let mfaToken;

function signedIn(user) {
  heady.say(status, "Signed in as " + user.email, "ok");
  status.dataset.signedIn = user.id;
}

// The second step, after a password or a provider: the challenge lives in this page's memory only.
function askSecondFactor(challenge) {
  mfaToken = challenge.mfaToken;
  form.hidden = true;
  mfaForm.hidden = false;
  document.getElementById("mfa-passkey").hidden = !challenge.methods.includes("passkey");
  document.getElementById("code").focus();
}

heady.onSubmit(form, async (fields, formStatus) => {
  const result = await heady.api("POST", "/api/auth/login", { email: fields.email, password: fields.password });
  if (!result.ok) {
    heady.say(formStatus, heady.explain(result), "error");
    document.getElementById("password").select();
    return;
  }
  if (result.body.mfaRequired) return askSecondFactor(result.body);
  location.assign(returnTo);
});

heady.onSubmit(mfaForm, async (fields, formStatus) => {
  const code = fields.code.trim();
  // Six digits is a TOTP code; anything else is taken for a recovery code.
  const body = /^[0-9]{6}$/.test(code) ? { mfaToken, code } : { mfaToken, recoveryCode: code };
  const result = await heady.api("POST", "/api/auth/login/mfa", body);
  if (result.ok) return location.assign(returnTo);
  heady.say(formStatus, heady.explain(result), "error");
  if (heady.errorCode(result) === "invalid_token") { mfaForm.hidden = true; form.hidden = false; }
});

document.getElementById("mfa-passkey").addEventListener("click", async () => {
  const formStatus = mfaForm.querySelector(".status");
  const started = await heady.api("POST", "/api/auth/login/mfa/passkey/options", { mfaToken });
  if (!started.ok) return heady.say(formStatus, heady.explain(started), "error");
  const credential = await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(started.body.options) });
  const done = await heady.api("POST", "/api/auth/login/mfa/passkey", { mfaToken, challengeId: started.body.challengeId, response: credential.toJSON() });
  if (done.ok) return location.assign(returnTo);
  heady.say(formStatus, heady.explain(done), "error");
});

document.getElementById("passkey-sign-in").addEventListener("click", async () => {
  try {
    const started = await heady.api("POST", "/api/auth/passkeys/login/options");
    if (!started.ok) return heady.say(status, heady.explain(started), "error");
    const credential = await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(started.body.options) });
    const done = await heady.api("POST", "/api/auth/passkeys/login/verify", { challengeId: started.body.challengeId, response: credential.toJSON() });
    if (!done.ok) return heady.say(status, "Not signed in: " + heady.explain(done), "error");
    location.assign(returnTo);
  } catch (error) {
    heady.say(status, "The passkey was not used: " + error.message, "error");
  }
});

(async () => {
  const ticket = new URLSearchParams(location.hash.slice(1)).get("ticket");
  if (!ticket) return;
  // The ticket is single-use: drop it from the address bar and history first.
  history.replaceState(null, "", location.pathname);
  const result = await heady.api("POST", "/api/provider/tokens", { ticket });
  if (!result.ok) return heady.say(status, "Sign-in failed: " + heady.explain(result), "error");
  if (result.body.mfaRequired) return askSecondFactor(result.body);
  signedIn(result.body.user);
  document.getElementById("continue").hidden = false;
})();
`;

export interface ProviderButton {
  id: string;
  name: string;
  startUrl: string;
}

export function SignInPage(props: { nonce: string; returnTo: string; providers: readonly ProviderButton[] }) {
  return (
    <Layout title="Sign in" nonce={props.nonce} script={COMMON_SCRIPT + SIGN_IN_SCRIPT}>
      <Status id="status" />
      <p id="continue" hidden>
        <a class="button" href={props.returnTo}>
          Continue
        </a>
      </p>
      <form id="sign-in" method="post" action="/api/auth/login" data-return={props.returnTo}>
        <Field id="email" label="Email" type="email" autocomplete="username" required />
        <Field id="password" label="Password" type="password" autocomplete="current-password" required />
        <div class="actions">
          <button type="submit">Sign in</button>
          <button type="button" class="secondary" id="passkey-sign-in">
            Sign in with a passkey
          </button>
        </div>
        <Status />
      </form>
      <form id="mfa" method="post" action="/api/auth/login/mfa" hidden>
        <p>This account has two-step verification.</p>
        <Field
          id="code"
          label="Authentication code"
          inputmode="numeric"
          autocomplete="one-time-code"
          maxlength={32}
          required
          hint="The 6-digit code from your authenticator app, or one of your recovery codes."
        />
        <div class="actions">
          <button type="submit">Verify</button>
          <button type="button" class="secondary" id="mfa-passkey" hidden>
            Use a passkey instead
          </button>
        </div>
        <Status />
      </form>
      {props.providers.length > 0 ? (
        <>
          <p class="divider">or</p>
          <nav class="providers" aria-label="Sign in with a provider">
            {props.providers.map((provider) => (
              <a class="button provider" href={provider.startUrl} data-provider={provider.id}>
                Continue with {provider.name}
              </a>
            ))}
          </nav>
        </>
      ) : null}
      <p>
        New to HeadyKey? <a href="/register">Create an account</a>
      </p>
    </Layout>
  );
}
