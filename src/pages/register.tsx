import { PASSWORD_MIN_CHARACTERS } from "../account-security/password-policy";
import { Field, Status } from "./components";
import { Layout } from "./layout";

/** Registration; the API judges the password (client/register.ts shows its reason), then onboarding. */
export function RegisterPage(props: { nonce: string; next: string }) {
  return (
    <Layout title="Create your account" nonce={props.nonce} script="register">
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
