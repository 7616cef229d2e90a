import type { Child } from "hono/jsx";
import { API_KEY_WARNING, Card, Field, ShownOnce, Status } from "./components";
import { Layout } from "./layout";
import type { ProviderButton } from "./sign-in";

/**
 * A list the script fills from the API: the `<ul>`, the note shown when it is empty, and the
 * `<template id="<id>-row">` each item is made from, with one action button.
 */
function RowList(props: {
  id: string;
  label: string;
  empty: string;
  action: string;
  actionLabel: string;
  danger?: boolean;
  children?: Child;
}) {
  return (
    <>
      <ul class="rows" id={props.id} aria-label={props.label} />
      <p class="empty" data-empty-for={props.id} hidden>
        {props.empty}
      </p>
      <template id={`${props.id}-row`}>
        <li>
          <span class="what">{props.children}</span>
          <button type="button" class={props.danger ? "danger" : "secondary"} data-action={props.action}>
            {props.actionLabel}
          </button>
        </li>
      </template>
    </>
  );
}

export interface AccountPageProps {
  nonce: string;
  providers: readonly ProviderButton[];
  /** The exact `redirectTo` linking a provider comes back to (this page, under PUBLIC_URL). */
  linkReturn: string;
}

export function AccountPage(props: AccountPageProps) {
  return (
    <Layout title="Your account" nonce={props.nonce} script="account" session="required">
      <Status id="status" />
      <p>
        <a href="/onboarding">Set up HeadyBuddy</a>
      </p>

      <Card id="profile" title="Profile">
        <dl>
          <dt>Email</dt>
          <dd data-profile="email" />
          <dt>Email confirmed</dt>
          <dd data-profile="emailVerified" />
          <dt>Display name</dt>
          <dd data-profile="displayName" />
          <dt>Role</dt>
          <dd data-profile="role" />
          <dt>Member since</dt>
          <dd data-profile="createdAt" />
        </dl>
      </Card>

      <Card id="api-keys" title="API keys">
        <p class="hint">Keys let your own programs call HeadyKey. Each key is shown once, when it is created.</p>
        <ShownOnce id="new-key" label="Your new API key" warning={API_KEY_WARNING} />
        <form id="create-key" method="post" action="/api/auth/api-keys">
          <Field id="key-description" name="description" label="What is the key for?" required maxlength={200} />
          <button type="submit">Create key</button>
          <Status />
        </form>
        <RowList id="keys" label="Your API keys" empty="No API keys yet." action="revoke" actionLabel="Revoke" danger>
          <code data-field="prefix" /> <span data-field="description" />
          <span class="meta" data-field="created" />
          <span class="meta" data-field="lastUsed" />
          <span class="meta" data-field="state" />
        </RowList>
      </Card>

      <Card id="sessions-card" title="Where you are signed in">
        <RowList id="sessions" label="Your sessions" empty="No other sessions." action="end" actionLabel="Sign out">
          <span data-field="device" />
          <span class="meta" data-field="where" />
          <span class="meta" data-field="created" />
        </RowList>
        <div class="actions">
          <button type="button" class="secondary" id="sign-out-others">
            Sign out everywhere else
          </button>
          <button type="button" id="sign-out">
            Sign out
          </button>
        </div>
      </Card>

      <Card id="providers" title="Linked sign-in providers">
        <RowList id="identities" label="Linked providers" empty="No provider is linked." action="unlink" actionLabel="Unlink" danger>
          <strong data-field="provider" /> <span data-field="who" />
          <span class="meta" data-field="linked" />
        </RowList>
        {props.providers.length > 0 ? (
          <div class="actions" id="link-providers" data-return={props.linkReturn}>
            {props.providers.map((provider) => (
              <button type="button" class="secondary" data-link-provider={provider.id}>
                Link {provider.name}
              </button>
            ))}
          </div>
        ) : null}
      </Card>

      <Card id="mfa" title="Two-step verification">
        <p id="mfa-state">Loading…</p>
        <button type="button" id="totp-enroll" hidden>
          Turn on with an authenticator app
        </button>
        <form id="totp-confirm" method="post" action="/api/auth/mfa/totp/confirm" hidden>
          <p>Add this key to your authenticator app (or open the link on your phone), then enter the code it shows.</p>
          <p class="secret" id="totp-secret" />
          <p class="secret" id="totp-uri" />
          <Field
            id="totp-confirm-code"
            name="code"
            label="Code from the app"
            inputmode="numeric"
            autocomplete="one-time-code"
            pattern="[0-9]{6}"
            required
          />
          <button type="submit">Turn on</button>
          <Status />
        </form>
        <ShownOnce
          id="recovery-codes"
          label="Recovery codes"
          warning="These codes are shown once. Each signs you in once if you lose your phone; keep them somewhere safe."
        />
        <form id="totp-disable" method="post" action="/api/auth/mfa/totp/disable" hidden>
          <Field
            id="totp-disable-code"
            name="code"
            label="A current code, to turn it off"
            inputmode="numeric"
            autocomplete="one-time-code"
            pattern="[0-9]{6}"
            required
          />
          <button type="submit" class="danger">
            Turn off
          </button>
          <Status />
        </form>
      </Card>

      <Card id="passkeys-card" title="Passkeys">
        <RowList id="passkeys" label="Your passkeys" empty="No passkeys yet." action="remove" actionLabel="Remove" danger>
          <span data-field="name" />
          <span class="meta" data-field="used" />
        </RowList>
        <button type="button" id="add-passkey">
          Add a passkey
        </button>
      </Card>
    </Layout>
  );
}
