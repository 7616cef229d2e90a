import { PASSWORD_MIN_CHARACTERS } from "../auth/password-policy";
import { Field, Status } from "./components";
import { Layout } from "./layout";
import { COMMON_SCRIPT } from "./scripts/common";

/** Registration: the API checks the password (length, common passwords, context words) and says why. */
const REGISTER_SCRIPT = `"use strict";
const form = document.getElementById("register");
heady.onSubmit(form, async (fields, status) => {
  if (fields.password !== fields.confirm) {
    heady.say(status, "The two passwords do not match.", "error");
    document.getElementById("confirm").focus();
    return;
  }
  const result = await heady.api("POST", "/api/auth/register", { email: fields.email, password: fields.password });
  if (!result.ok) {
    heady.say(status, heady.explain(result), "error");
    document.getElementById(heady.errorCode(result) === "weak_password" ? "password" : "email").focus();
    return;
  }
  location.assign(form.dataset.next);
});
`;

export function RegisterPage(props: { nonce: string; next: string }) {
  return (
    <Layout title="Create your account" nonce={props.nonce} script={COMMON_SCRIPT + REGISTER_SCRIPT}>
      <form id="register" method="post" action="/api/auth/register" data-next={props.next}>
        <Field id="email" label="Email" type="email" autocomplete="email" required />
        <Field
          id="password"
          label="Password"
          type="password"
          autocomplete="new-password"
          required
          hint={`At least ${PASSWORD_MIN_CHARACTERS} characters. Common passwords, and ones made from your email address, are refused.`}
        />
        <Field id="confirm" label="Confirm password" type="password" autocomplete="new-password" required />
        <button type="submit">Create account</button>
        <Status />
      </form>
      <p>
        Already have an account? <a href="/sign-in">Sign in</a>
      </p>
    </Layout>
  );
}
