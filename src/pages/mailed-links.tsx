import { Field, Status } from "./components";
import { Layout } from "./layout";

/** The pages mailed links open; their scripts take the token from the fragment, which no server sees (client/shared/mailed-link.ts). */
export function VerifyEmailPage(props: { nonce: string }) {
  return (
    <Layout title="Confirm your email" nonce={props.nonce} script="verify-email">
      <Status id="status" />
      <p>
        <a href="/account">Go to your account</a>
      </p>
    </Layout>
  );
}

export function ResetPasswordPage(props: { nonce: string }) {
  return (
    <Layout title="Choose a new password" nonce={props.nonce} script="reset-password">
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
