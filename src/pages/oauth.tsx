import { Layout } from "./layout";

/** What each scope lets an app do, in words, for the consent page; an API scope shows as itself. */
const SCOPE_WORDS: Record<string, string> = {
  openid: "Know who you are (your HeadyKey account id)",
  profile: "See your name",
  email: "See your email address and whether it is confirmed",
  offline_access: "Stay connected when you are not using it",
};

/**
 * The consent page: names the app and what it asks for, and posts the decision back to this origin
 * with the single-use ticket (a same-origin form post, so the SameSite=Strict session cookie rides
 * along and no other site can make the decision).
 */
export function ConsentPage(props: {
  nonce: string;
  appName: string;
  logoUri: string | null;
  scopes: string[];
  ticket: string;
  action: string;
}) {
  return (
    <Layout title={`${props.appName} wants to use your HeadyKey account`} nonce={props.nonce} script="oauth">
      <p>It asks to:</p>
      <ul id="scopes">
        {props.scopes.map((scope) => (
          <li data-scope={scope}>{SCOPE_WORDS[scope] ?? `Use "${scope}" on your behalf`}</li>
        ))}
      </ul>
      <form id="consent" method="post" action={props.action}>
        <input type="hidden" name="ticket" value={props.ticket} />
        <div class="actions">
          <button type="submit" name="decision" value="approve">
            Allow
          </button>
          <button type="submit" name="decision" value="deny" class="secondary">
            Deny
          </button>
        </div>
      </form>
      <p>You can take this back at any time on your account page.</p>
    </Layout>
  );
}

/**
 * The same-site hop. A browser sent here from another site's redirect leaves the SameSite=Strict
 * session cookie behind; this page's script (client/oauth.ts) navigates to the very same URL, and
 * that navigation starts on this origin, so it carries the cookie. It reveals nothing and decides nothing: the request it
 * repeats is checked again from scratch.
 */
export function SameSiteHopPage(props: { nonce: string; url: string }) {
  return (
    <Layout title="Continuing to sign in" nonce={props.nonce} script="oauth">
      <p>
        <a id="continue" href={props.url}>
          Continue
        </a>
      </p>
    </Layout>
  );
}

/** An authorization request that cannot go back to the app (unknown client or redirect URI): said here, sent nowhere. */
export function AuthorizeErrorPage(props: { nonce: string; error: string; description: string }) {
  return (
    <Layout title="This sign-in request cannot be used" nonce={props.nonce} script="oauth">
      <p id="error" data-error={props.error}>
        {props.description}
      </p>
      <p>Go back to the app and try again, or tell its makers.</p>
    </Layout>
  );
}
