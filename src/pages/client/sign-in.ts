/**
 * The sign-in page (src/pages/sign-in.tsx): password sign-in (with the TOTP, recovery-code or passkey
 * step when the account has MFA), passkey sign-in, and a provider sign-in's return: the provider
 * comes back here with `#ticket=…`, which is dropped from the address bar and exchanged, once, for
 * the session, or, when the account has a second factor, for the same MFA step a password login goes on to.
 */
import type { MfaChallenge, WebauthnOptions } from "../../account-security/schemas";
import type { SessionTokens } from "../../identity/schemas";
import { isAuthenticatorCode } from "./shared/authenticator-code";
import { byId, messageOf, onSubmit, say, sayFailed } from "./shared/dom";
import { takeFromFragment } from "./shared/fragment";
import { signWithPasskey } from "./shared/passkeys";
import { errorCode, type JsonOf, send } from "./shared/request";

/** What a password or provider sign-in answers: the session, or the second step the account asks for. */
type SignedInOrChallenged = JsonOf<typeof SessionTokens> | JsonOf<typeof MfaChallenge>;

const form = byId<HTMLFormElement>("sign-in");
const mfaForm = byId<HTMLFormElement>("mfa");
const status = byId("status");
/** Where to go once signed in: a hosted page's path, chosen by the server (src/pages/return-path.ts). */
const returnTo = form.dataset.return!;
/** The second step's challenge, after a password or a provider; it lives in this page's memory only. */
let mfaToken: string | undefined;

function askSecondFactor(challenge: JsonOf<typeof MfaChallenge>): void {
  mfaToken = challenge.mfaToken;
  form.hidden = true;
  mfaForm.hidden = false;
  byId("mfa-passkey").hidden = !challenge.methods.includes("passkey");
  byId("code").focus();
}

onSubmit(form, async (fields: { email: string; password: string }, formStatus) => {
  const result = await send<SignedInOrChallenged>("POST", "/api/auth/login", { email: fields.email, password: fields.password });
  if (!result.ok) {
    sayFailed(formStatus, result);
    byId<HTMLInputElement>("password").select();
    return;
  }
  if ("mfaRequired" in result.body) return askSecondFactor(result.body);
  location.assign(returnTo);
});

onSubmit(mfaForm, async (fields: { code: string }, formStatus) => {
  const code = fields.code.trim();
  // Anything but an authenticator code is taken for a recovery code.
  const body = isAuthenticatorCode(code) ? { mfaToken, code } : { mfaToken, recoveryCode: code };
  const result = await send("POST", "/api/auth/login/mfa", body);
  if (result.ok) return location.assign(returnTo);
  sayFailed(formStatus, result);
  if (errorCode(result) === "invalid_token") {
    mfaForm.hidden = true;
    form.hidden = false;
  }
});

byId("mfa-passkey").addEventListener("click", async () => {
  const formStatus = mfaForm.querySelector<HTMLElement>(".status");
  const started = await send<JsonOf<typeof WebauthnOptions>>("POST", "/api/auth/login/mfa/passkey/options", { mfaToken });
  if (!started.ok) return sayFailed(formStatus, started);
  const response = await signWithPasskey(started.body.options);
  const done = await send("POST", "/api/auth/login/mfa/passkey", { mfaToken, challengeId: started.body.challengeId, response });
  if (done.ok) return location.assign(returnTo);
  sayFailed(formStatus, done);
});

byId("passkey-sign-in").addEventListener("click", async () => {
  try {
    const started = await send<JsonOf<typeof WebauthnOptions>>("POST", "/api/auth/passkeys/login/options");
    if (!started.ok) return sayFailed(status, started);
    const response = await signWithPasskey(started.body.options);
    const done = await send("POST", "/api/auth/passkeys/login/verify", { challengeId: started.body.challengeId, response });
    if (!done.ok) return sayFailed(status, done, "Not signed in: ");
    location.assign(returnTo);
  } catch (error) {
    say(status, `The passkey was not used: ${messageOf(error)}`, "error");
  }
});

(async () => {
  const ticket = takeFromFragment("ticket");
  if (!ticket) return;
  const result = await send<SignedInOrChallenged>("POST", "/api/provider/tokens", { ticket });
  if (!result.ok) return sayFailed(status, result, "Sign-in failed: ");
  if ("mfaRequired" in result.body) return askSecondFactor(result.body);
  say(status, `Signed in as ${result.body.user.email}`, "ok");
  status.dataset.signedIn = result.body.user.id;
  byId("continue").hidden = false;
})();
