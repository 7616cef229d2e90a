/**
 * The account page (src/pages/account.tsx): each card loads from its API route and re-loads after a
 * change. Secrets (a new API key, recovery codes) are shown once, from the creating response only.
 */
import type {
  DeviceSessionList,
  MfaStatus,
  PasskeyList,
  RecoveryCodeList,
  RevokedCount,
  TotpEnrolment,
  WebauthnOptions,
} from "../../account-security/schemas";
import type { ApiKeyList, CreatedApiKey } from "../../api-keys/schemas";
import type { User } from "../../identity/schemas";
import type { AuthorizationUrl, IdentityList } from "../../providers/schemas";
import { api } from "./shared/api";
import { byId, enableCopyButtons, messageOf, onSubmit, row, say, sayFailed, when } from "./shared/dom";
import { createPasskey } from "./shared/passkeys";
import type { ApiResult, JsonOf } from "./shared/request";

type ApiKey = JsonOf<typeof ApiKeyList>["keys"][number];
type DeviceSession = JsonOf<typeof DeviceSessionList>["sessions"][number];
type Identity = JsonOf<typeof IdentityList>["identities"][number];

enableCopyButtons();

/** A card's status line (`<card id>-status`, from the Card component). */
const statusOf = (card: string) => byId(`${card}-status`);
const fail = (card: string) => (result: ApiResult) => sayFailed(statusOf(card), result);

/** Fills a list from items; its `[data-empty-for]` note shows when there are none. */
function fill<Item>(listId: string, items: readonly Item[], build: (item: Item) => HTMLElement): void {
  byId(listId).replaceChildren(...items.map(build));
  document.querySelector<HTMLElement>(`[data-empty-for="${listId}"]`)!.hidden = items.length > 0;
}

/** A row from a `<template>`, with a click handler for each `[data-action]` button; a button without one is removed. */
function rowOf(templateId: string, values: Record<string, string>, actions: Record<string, () => unknown>): HTMLElement {
  const node = row(byId<HTMLTemplateElement>(templateId), values);
  for (const button of node.querySelectorAll<HTMLElement>("[data-action]")) {
    const act = actions[button.dataset.action!];
    if (act) button.addEventListener("click", () => act());
    else button.remove();
  }
  return node;
}

/** A profile field as the card writes it: yes or not yet, a date, or the text. */
function profileText(field: string, value: string | boolean | null | undefined): string {
  if (typeof value === "boolean") return value ? "yes" : "not yet";
  return field === "createdAt" ? when(value) : value || "not set";
}

async function loadProfile(): Promise<boolean> {
  const me = await api<JsonOf<typeof User>>("GET", "/api/auth/me");
  if (!me.ok) {
    fail("profile")(me);
    return false;
  }
  say(byId("status"), `Signed in as ${me.body.email}`, "");
  byId("status").dataset.signedIn = me.body.id;
  for (const slot of byId("profile").querySelectorAll<HTMLElement>("[data-profile]")) {
    const field = slot.dataset.profile!;
    slot.textContent = profileText(field, me.body[field as keyof JsonOf<typeof User>]);
  }
  return true;
}

async function loadKeys(): Promise<void> {
  const listed = await api<JsonOf<typeof ApiKeyList>>("GET", "/api/auth/api-keys");
  if (!listed.ok) return fail("api-keys")(listed);
  fill("keys", listed.body.keys, (key) => {
    const node = rowOf(
      "keys-row",
      {
        prefix: `${key.prefix}…`,
        description: key.description,
        created: `created ${when(key.createdAt)}`,
        lastUsed: `last used ${when(key.lastUsedAt)}`,
        state: key.revokedAt ? `revoked ${when(key.revokedAt)}` : "active",
      },
      key.revokedAt ? {} : { revoke: () => revokeKey(key) },
    );
    node.dataset.key = key.id;
    node.dataset.state = key.revokedAt ? "revoked" : "active";
    return node;
  });
}

async function revokeKey(key: ApiKey): Promise<void> {
  const result = await api("DELETE", `/api/auth/api-keys/${encodeURIComponent(key.id)}`);
  if (!result.ok) return fail("api-keys")(result);
  say(statusOf("api-keys"), `Key ${key.prefix}… is revoked.`, "ok");
  await loadKeys();
}

onSubmit(byId<HTMLFormElement>("create-key"), async (fields: { description: string }, status) => {
  const created = await api<JsonOf<typeof CreatedApiKey>>("POST", "/api/auth/api-keys", { description: fields.description });
  if (!created.ok) return sayFailed(status, created);
  byId("new-key").textContent = created.body.key;
  byId("new-key-box").hidden = false;
  byId<HTMLFormElement>("create-key").reset();
  say(status, "Key created.", "ok");
  await loadKeys();
});

async function loadSessions(): Promise<void> {
  const listed = await api<JsonOf<typeof DeviceSessionList>>("GET", "/api/auth/sessions");
  if (!listed.ok) return fail("sessions-card")(listed);
  fill("sessions", listed.body.sessions, (session) => {
    const node = rowOf(
      "sessions-row",
      {
        device: (session.userAgent || "Unknown device") + (session.current ? " (this browser)" : ""),
        where: session.ipPrefix ? `from ${session.ipPrefix}` : "",
        created: `signed in ${when(session.createdAt)}, last seen ${when(session.lastSeenAt)}`,
      },
      { end: () => endSession(session) },
    );
    node.dataset.session = session.id;
    if (session.current) node.dataset.current = "true";
    return node;
  });
}

async function endSession(session: DeviceSession): Promise<void> {
  const result = await api("DELETE", `/api/auth/sessions/${encodeURIComponent(session.id)}`);
  if (!result.ok) return fail("sessions-card")(result);
  if (session.current) return location.assign("/sign-in");
  await loadSessions();
}

byId("sign-out-others").addEventListener("click", async () => {
  const result = await api<JsonOf<typeof RevokedCount>>("POST", "/api/auth/sessions/revoke-others");
  if (!result.ok) return fail("sessions-card")(result);
  say(statusOf("sessions-card"), `Signed out of ${result.body.revoked} other session(s).`, "ok");
  await loadSessions();
});

byId("sign-out").addEventListener("click", async () => {
  const result = await api("POST", "/api/auth/logout");
  if (!result.ok && result.status !== 401) return fail("sessions-card")(result);
  location.assign("/sign-in");
});

async function loadIdentities(): Promise<void> {
  const listed = await api<JsonOf<typeof IdentityList>>("GET", "/api/provider/identities");
  if (!listed.ok) return fail("providers")(listed);
  fill("identities", listed.body.identities, (identity) => {
    const node = rowOf(
      "identities-row",
      {
        provider: identity.provider,
        who: identity.email || identity.subject,
        linked: `linked ${when(identity.createdAt)}, last used ${when(identity.lastSignInAt)}`,
      },
      { unlink: () => unlink(identity) },
    );
    node.dataset.identity = identity.id;
    return node;
  });
}

async function unlink(identity: Identity): Promise<void> {
  const result = await api("DELETE", `/api/provider/identities/${encodeURIComponent(identity.id)}`);
  if (!result.ok) return fail("providers")(result);
  await loadIdentities();
}

for (const button of document.querySelectorAll<HTMLElement>("[data-link-provider]")) {
  button.addEventListener("click", async () => {
    const started = await api<JsonOf<typeof AuthorizationUrl>>("POST", "/api/provider/link", {
      provider: button.dataset.linkProvider,
      redirectTo: byId("link-providers").dataset.return,
    });
    if (!started.ok) return fail("providers")(started);
    location.assign(started.body.authorizationUrl);
  });
}

async function loadMfa(): Promise<void> {
  const mfa = await api<JsonOf<typeof MfaStatus>>("GET", "/api/auth/mfa");
  if (!mfa.ok) return fail("mfa")(mfa);
  byId("mfa-state").textContent = mfa.body.totp
    ? `On: sign-in asks for a code from your authenticator app (${mfa.body.recoveryCodesLeft} recovery codes left).`
    : "Off.";
  byId("mfa").dataset.totp = String(mfa.body.totp);
  byId("totp-enroll").hidden = mfa.body.totp;
  byId("totp-disable").hidden = !mfa.body.totp;
}

byId("totp-enroll").addEventListener("click", async () => {
  const started = await api<JsonOf<typeof TotpEnrolment>>("POST", "/api/auth/mfa/totp/enroll");
  if (!started.ok) return fail("mfa")(started);
  byId("totp-secret").textContent = started.body.secret;
  byId("totp-uri").textContent = started.body.otpauthUri;
  byId("totp-confirm").hidden = false;
  byId("totp-enroll").hidden = true;
  byId("totp-confirm-code").focus();
});

onSubmit(byId<HTMLFormElement>("totp-confirm"), async (fields: { code: string }, status) => {
  const confirmed = await api<JsonOf<typeof RecoveryCodeList>>("POST", "/api/auth/mfa/totp/confirm", { code: fields.code.trim() });
  if (!confirmed.ok) return sayFailed(status, confirmed);
  byId("recovery-codes").textContent = confirmed.body.recoveryCodes.join("  ");
  byId("recovery-codes-box").hidden = false;
  byId("totp-confirm").hidden = true;
  await loadMfa();
});

onSubmit(byId<HTMLFormElement>("totp-disable"), async (fields: { code: string }, status) => {
  const disabled = await api("POST", "/api/auth/mfa/totp/disable", { code: fields.code.trim() });
  if (!disabled.ok) return sayFailed(status, disabled);
  byId<HTMLFormElement>("totp-disable").reset();
  byId("recovery-codes-box").hidden = true;
  await loadMfa();
});

async function loadPasskeys(): Promise<void> {
  const listed = await api<JsonOf<typeof PasskeyList>>("GET", "/api/auth/passkeys");
  if (!listed.ok) return fail("passkeys-card")(listed);
  fill("passkeys", listed.body.passkeys, (passkey) => {
    const node = rowOf(
      "passkeys-row",
      { name: passkey.name, used: `added ${when(passkey.createdAt)}, last used ${when(passkey.lastUsedAt)}` },
      {
        remove: async () => {
          const result = await api("DELETE", `/api/auth/passkeys/${encodeURIComponent(passkey.id)}`);
          if (!result.ok) return fail("passkeys-card")(result);
          await loadPasskeys();
        },
      },
    );
    node.dataset.passkey = passkey.id;
    return node;
  });
}

byId("add-passkey").addEventListener("click", async () => {
  try {
    const started = await api<JsonOf<typeof WebauthnOptions>>("POST", "/api/auth/passkeys/register/options");
    if (!started.ok) return fail("passkeys-card")(started);
    const response = await createPasskey(started.body.options);
    const done = await api("POST", "/api/auth/passkeys/register/verify", {
      challengeId: started.body.challengeId,
      response,
      name: "This browser",
    });
    if (!done.ok) return fail("passkeys-card")(done);
    await loadPasskeys();
  } catch (error) {
    say(statusOf("passkeys-card"), `No passkey was added: ${messageOf(error)}`, "error");
  }
});

// The profile first: without a session it sends the browser to sign in before the other cards ask.
loadProfile().then(async (signedIn) => {
  if (!signedIn) return;
  await Promise.all([loadKeys(), loadSessions(), loadIdentities(), loadMfa(), loadPasskeys()]);
  document.body.dataset.loaded = "true";
});
