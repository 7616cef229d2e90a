import { Field, Status } from "./components";
import { Layout } from "./layout";

export interface ProviderButton {
  id: string;
  name: string;
  startUrl: string;
}

/** Sign-in by password (then MFA), passkey or provider; client/sign-in.ts drives it, and takes a provider's `#ticket`. */
export function SignInPage(props: { nonce: string; returnTo: string; providers: readonly ProviderButton[] }) {
  return (
    <Layout title="Sign in" nonce={props.nonce} script="sign-in">
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
