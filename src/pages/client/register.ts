/** The registration page (src/pages/register.tsx): the API checks the password (length, common passwords, context words) and says why. */
import { byId, onSubmit, say, sayFailed } from "./shared/dom";
import { errorCode, send } from "./shared/request";

const form = byId<HTMLFormElement>("register");

onSubmit(form, async (fields: { email: string; password: string; confirm: string }, status) => {
  if (fields.password !== fields.confirm) {
    say(status, "The two passwords do not match.", "error");
    byId("confirm").focus();
    return;
  }
  const result = await send("POST", "/api/auth/register", { email: fields.email, password: fields.password });
  if (!result.ok) {
    sayFailed(status, result);
    byId(errorCode(result) === "weak_password" ? "password" : "email").focus();
    return;
  }
  // Where a new account goes next (onboarding), as the server rendered it.
  location.assign(form.dataset.next!);
});
