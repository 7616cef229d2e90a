import type { Child } from "hono/jsx";
import { API_KEY_WARNING, Card, Field, ShownOnce, Status } from "./components";
import { Layout } from "./layout";
import type { ProviderButton } from "./sign-in";

/**
 * The account page's client: each card loads from its API route and re-loads after a change.
 * Secrets (a new API key, recovery codes) are shown once, from the creating response only.
 */
const ACCOUNT_SCRIPT = `"use strict";
const $ = (id) => document.getElementById(id);
const statusOf = (card) => $(card + "-status");
const fail = (card) => (result) => heady.say(statusOf(card), heady.explain(result), "error");

// Fills a list from items; its [data-empty-for] note shows when there are none.
function fill(listId, items, build) {
  $(listId).replaceChildren(...items.map(build));
  document.querySelector('[data-empty-for="' + listId + '"]').hidden = items.length > 0;
}

// A row from a <template>, with a click handler for each [data-action] button.
function rowOf(templateId, values, actions) {
  const node = heady.row($(templateId), values);
  for (const button of node.querySelectorAll("[data-action]")) {
    const act = actions[button.dataset.action];
    if (act) button.addEventListener("click", () => act(button));
    else button.remove();
  }
  return node;
}

async function loadProfile() {
  const me = await heady.api("GET", "/api/auth/me");
  if (!me.ok) {
    fail("profile")(me);
    return false;
  }
  heady.say($("status"), "Signed in as " + me.body.email, "");
  $("status").dataset.signedIn = me.body.id;
  for (const slot of $("profile").querySelectorAll("[data-profile]")) {
    const value = me.body[slot.dataset.profile];
    slot.textContent = typeof value === "boolean" ? (value ? "yes" : "not yet") : slot.dataset.profile === "createdAt" ? heady.when(value) : value || "not set";
  }
  return true;
}

async function loadKeys() {
  const listed = await heady.api("GET", "/api/auth/api-keys");
  if (!listed.ok) return fail("api-keys")(listed);
  fill("keys", listed.body.keys, (key) => {
    const node = rowOf("keys-row", {
      prefix: key.prefix + "…",
      description: key.description,
      created: "created " + heady.when(key.createdAt),
      lastUsed: "last used " + heady.when(key.lastUsedAt),
      state: key.revokedAt ? "revoked " + heady.when(key.revokedAt) : "active",
    }, key.revokedAt ? {} : { revoke: () => revokeKey(key) });
    node.dataset.key = key.id;
    node.dataset.state = key.revokedAt ? "revoked" : "active";
    return node;
  });
}

async function revokeKey(key) {
  const result = await heady.api("DELETE", "/api/auth/api-keys/" + encodeURIComponent(key.id));
  if (!result.ok) return fail("api-keys")(result);
  heady.say(statusOf("api-keys"), "Key " + key.prefix + "… is revoked.", "ok");
  await loadKeys();
}

heady.onSubmit($("create-key"), async (fields, status) => {
  const created = await heady.api("POST", "/api/auth/api-keys", { description: fields.description });
  if (!created.ok) return heady.say(status, heady.explain(created), "error");
  $("new-key").textContent = created.body.key;
  $("new-key-box").hidden = false;
  $("create-key").reset();
  heady.say(status, "Key created.", "ok");
  await loadKeys();
});

async function loadSessions() {
  const listed = await heady.api("GET", "/api/auth/sessions");
  if (!listed.ok) return fail("sessions-card")(listed);
  fill("sessions", listed.body.sessions, (session) => {
    const node = rowOf("sessions-row", {
      device: (session.userAgent || "Unknown device") + (session.current ? " (this browser)" : ""),
      where: session.ipPrefix ? "from " + session.ipPrefix : "",
      created: "signed in " + heady.when(session.createdAt) + ", last seen " + heady.when(session.lastSeenAt),
    }, { end: () => endSession(session) });
    node.dataset.session = session.id;
    if (session.current) node.dataset.current = "true";
    return node;
  });
}

async function endSession(session) {
  const result = await heady.api("DELETE", "/api/auth/sessions/" + encodeURIComponent(session.id));
  if (!result.ok) return fail("sessions-card")(result);
  if (session.current) return location.assign("/sign-in");
  await loadSessions();
}

$("sign-out-others").addEventListener("click", async () => {
  const result = await heady.api("POST", "/api/auth/sessions/revoke-others");
  if (!result.ok) return fail("sessions-card")(result);
  heady.say(statusOf("sessions-card"), "Signed out of " + result.body.revoked + " other session(s).", "ok");
  await loadSessions();
});

$("sign-out").addEventListener("click", async () => {
  const result = await heady.api("POST", "/api/auth/logout");
  if (!result.ok && result.status !== 401) return fail("sessions-card")(result);
  location.assign("/sign-in");
});

async function loadIdentities() {
  const listed = await heady.api("GET", "/api/provider/identities");
  if (!listed.ok) return fail("providers")(listed);
  fill("identities", listed.body.identities, (identity) => {
    const node = rowOf("identities-row", {
      provider: identity.provider,
      who: identity.email || identity.subject,
      linked: "linked " + heady.when(identity.createdAt) + ", last used " + heady.when(identity.lastSignInAt),
    }, { unlink: () => unlink(identity) });
    node.dataset.identity = identity.id;
    return node;
  });
}

async function unlink(identity) {
  const result = await heady.api("DELETE", "/api/provider/identities/" + encodeURIComponent(identity.id));
  if (!result.ok) return fail("providers")(result);
  await loadIdentities();
}

for (const button of document.querySelectorAll("[data-link-provider]")) {
  button.addEventListener("click", async () => {
    const started = await heady.api("POST", "/api/provider/link", { provider: button.dataset.linkProvider, redirectTo: $("link-providers").dataset.return });
    if (!started.ok) return fail("providers")(started);
    location.assign(started.body.authorizationUrl);
  });
}

async function loadMfa() {
  const mfa = await heady.api("GET", "/api/auth/mfa");
  if (!mfa.ok) return fail("mfa")(mfa);
  $("mfa-state").textContent = mfa.body.totp ? "On: sign-in asks for a code from your authenticator app (" + mfa.body.recoveryCodesLeft + " recovery codes left)." : "Off.";
  $("mfa").dataset.totp = String(mfa.body.totp);
  $("totp-enroll").hidden = mfa.body.totp;
  $("totp-disable").hidden = !mfa.body.totp;
}

$("totp-enroll").addEventListener("click", async () => {
  const started = await heady.api("POST", "/api/auth/mfa/totp/enroll");
  if (!started.ok) return fail("mfa")(started);
  $("totp-secret").textContent = started.body.secret;
  $("totp-uri").textContent = started.body.otpauthUri;
  $("totp-confirm").hidden = false;
  $("totp-enroll").hidden = true;
  $("totp-confirm-code").focus();
});

heady.onSubmit($("totp-confirm"), async (fields, status) => {
  const confirmed = await heady.api("POST", "/api/auth/mfa/totp/confirm", { code: fields.code.trim() });
  if (!confirmed.ok) return heady.say(status, heady.explain(confirmed), "error");
  $("recovery-codes").textContent = confirmed.body.recoveryCodes.join("  ");
  $("recovery-codes-box").hidden = false;
  $("totp-confirm").hidden = true;
  await loadMfa();
});

heady.onSubmit($("totp-disable"), async (fields, status) => {
  const disabled = await heady.api("POST", "/api/auth/mfa/totp/disable", { code: fields.code.trim() });
  if (!disabled.ok) return heady.say(status, heady.explain(disabled), "error");
  $("totp-disable").reset();
  $("recovery-codes-box").hidden = true;
  await loadMfa();
});

async function loadPasskeys() {
  const listed = await heady.api("GET", "/api/auth/passkeys");
  if (!listed.ok) return fail("passkeys-card")(listed);
  fill("passkeys", listed.body.passkeys, (passkey) => {
    const node = rowOf("passkeys-row", { name: passkey.name, used: "added " + heady.when(passkey.createdAt) + ", last used " + heady.when(passkey.lastUsedAt) }, {
      remove: async () => {
        const result = await heady.api("DELETE", "/api/auth/passkeys/" + encodeURIComponent(passkey.id));
        if (!result.ok) return fail("passkeys-card")(result);
        await loadPasskeys();
      },
    });
    node.dataset.passkey = passkey.id;
    return node;
  });
}

$("add-passkey").addEventListener("click", async () => {
  try {
    const started = await heady.api("POST", "/api/auth/passkeys/register/options");
    if (!started.ok) return fail("passkeys-card")(started);
    const credential = await navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(started.body.options) });
    const done = await heady.api("POST", "/api/auth/passkeys/register/verify", { challengeId: started.body.challengeId, response: credential.toJSON(), name: "This browser" });
    if (!done.ok) return fail("passkeys-card")(done);
    await loadPasskeys();
  } catch (error) {
    heady.say(statusOf("passkeys-card"), "No passkey was added: " + error.message, "error");
  }
});

// The profile first: without a session it sends the browser to sign in before the other cards ask.
loadProfile().then(async (signedIn) => {
  if (!signedIn) return;
  await Promise.all([loadKeys(), loadSessions(), loadIdentities(), loadMfa(), loadPasskeys()]);
  document.body.dataset.loaded = "true";
});
`;

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
    <Layout title="Your account" nonce={props.nonce} script={ACCOUNT_SCRIPT} session="required">
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
