import type { WebauthnOptions } from "../../../account-security/schemas";
import { isAuthenticatorCode } from "./authenticator-code";
import { el, say, sayFailed } from "./dom";
import { explain } from "./explain";
import { signWithPasskey } from "./passkeys";
import { type ApiResult, errorCode, type JsonOf, send } from "./request";

/**
 * Asks for the password, an authenticator code or a passkey, in a dialog; true once the API
 * accepted one (the session is then recently authenticated), false when the person cancels.
 */
export function confirmIdentity(): Promise<boolean> {
  const dialog = el("dialog");
  dialog.setAttribute("aria-labelledby", "confirm-title");
  const form = el("form");
  const title = el("h2", { id: "confirm-title", textContent: "Confirm it's you" });
  const hint = el("p", {
    className: "hint",
    textContent: "This change needs a recent sign-in. Enter your password or a code from your authenticator app.",
  });
  const label = el("label", { htmlFor: "confirm-secret", textContent: "Password or authenticator code" });
  const input = el("input", { id: "confirm-secret", type: "password", autocomplete: "current-password" });
  const status = el("p", { className: "status" });
  status.setAttribute("role", "status");
  const confirm = el("button", { type: "submit", textContent: "Confirm" });
  const passkey = el("button", { type: "button", className: "secondary", textContent: "Use a passkey" });
  const cancel = el("button", { type: "button", className: "secondary", textContent: "Cancel" });
  form.append(title, hint, label, input, status, confirm, passkey, cancel);
  dialog.append(form);
  document.body.append(dialog);
  return new Promise((resolve) => {
    const finish = (ok: boolean) => {
      dialog.close();
      dialog.remove();
      resolve(ok);
    };
    const accepted = (result: ApiResult) => {
      if (result.ok) return finish(true);
      say(status, errorCode(result) === "invalid_credentials" ? "That did not match. Try again." : explain(result), "error");
    };
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const secret = input.value.trim();
      if (!secret) return say(status, "Enter your password or a code.", "error");
      accepted(await send("POST", "/api/auth/reauthenticate", isAuthenticatorCode(secret) ? { code: secret } : { password: input.value }));
    });
    passkey.addEventListener("click", async () => {
      const started = await send<JsonOf<typeof WebauthnOptions>>("POST", "/api/auth/reauthenticate/passkey/options");
      if (!started.ok) return sayFailed(status, started);
      try {
        const response = await signWithPasskey(started.body.options);
        accepted(await send("POST", "/api/auth/reauthenticate/passkey", { challengeId: started.body.challengeId, response }));
      } catch {
        say(status, "The passkey was not used. Try again, or enter your password.", "error");
      }
    });
    cancel.addEventListener("click", () => finish(false));
    dialog.addEventListener("cancel", () => finish(false));
    dialog.showModal();
    input.focus();
  });
}
