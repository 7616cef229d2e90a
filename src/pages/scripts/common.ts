/**
 * The client helpers every hosted page loads first (inline, with the response's CSP nonce), as
 * `heady`: one `api()` over the same JSON routes and error envelope API clients use, the sentences
 * a person reads for an error, form handling, rows from `<template>`s and copy buttons. The session
 * is the HttpOnly cookie: nothing here stores a token, in localStorage or anywhere else.
 */
export const COMMON_SCRIPT = `"use strict";
const heady = (() => {
  const needsSession = document.body.dataset.session === "required";

  // Where the sign-in page sends a person back to; the server accepts same-site paths only.
  function toSignIn() {
    location.assign("/sign-in?return=" + encodeURIComponent(location.pathname));
  }

  // A sensitive change (a passkey, TOTP, an API key, a linked provider) needs a recent sign-in: the
  // API answers reauthentication_required, the person confirms in a dialog, and the call is retried once.
  async function api(method, path, body) {
    const result = await send(method, path, body);
    if (errorCode(result) !== "reauthentication_required" || !(await confirmIdentity())) return result;
    return send(method, path, body);
  }

  // A new element with these properties.
  function el(tag, properties) {
    return Object.assign(document.createElement(tag), properties);
  }

  // Asks for the password, an authenticator code or a passkey; true once the API accepted one.
  function confirmIdentity() {
    const dialog = el("dialog", {});
    dialog.setAttribute("aria-labelledby", "confirm-title");
    const form = el("form", {});
    const title = el("h2", { id: "confirm-title", textContent: "Confirm it's you" });
    const hint = el("p", { className: "hint", textContent: "This change needs a recent sign-in. Enter your password or a code from your authenticator app." });
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
      const finish = (ok) => { dialog.close(); dialog.remove(); resolve(ok); };
      const accepted = (result) => {
        if (result.ok) return finish(true);
        say(status, errorCode(result) === "invalid_credentials" ? "That did not match. Try again." : explain(result), "error");
      };
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const secret = input.value.trim();
        if (!secret) return say(status, "Enter your password or a code.", "error");
        accepted(await send("POST", "/api/auth/reauthenticate", /^[0-9]{6}$/.test(secret) ? { code: secret } : { password: input.value }));
      });
      passkey.addEventListener("click", async () => {
        const started = await send("POST", "/api/auth/reauthenticate/passkey/options");
        if (!started.ok) return say(status, explain(started), "error");
        try {
          const credential = await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(started.body.options) });
          accepted(await send("POST", "/api/auth/reauthenticate/passkey", { challengeId: started.body.challengeId, response: credential.toJSON() }));
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

  // One request: {ok, status, body, retryAfter}; status 0 when the network failed.
  async function send(method, path, body) {
    let response;
    try {
      response = await fetch(path, {
        method,
        credentials: "same-origin",
        headers: body === undefined ? {} : { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      return { ok: false, status: 0, body: null, retryAfter: 0 };
    }
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch { data = null; }
    const result = { ok: response.ok, status: response.status, body: data, retryAfter: Number(response.headers.get("Retry-After")) || 0 };
    // An expired or missing session: back to sign-in, then back here.
    if (needsSession && errorCode(result) === "unauthorized") toSignIn();
    return result;
  }

  function errorCode(result) {
    return result.body && result.body.error ? result.body.error.code : undefined;
  }

  // What a person reads for a failed call.
  function explain(result) {
    if (result.status === 0) return "HeadyKey could not be reached. Check your connection and try again.";
    const error = result.body && result.body.error;
    if (!error) return "Something went wrong (HTTP " + result.status + "). Please try again.";
    switch (error.code) {
      case "rate_limited": {
        const minutes = Math.max(1, Math.ceil(result.retryAfter / 60));
        return "Too many attempts. Try again in " + minutes + (minutes === 1 ? " minute." : " minutes.");
      }
      case "weak_password":
        return "Choose another password. " + error.message;
      case "unauthorized":
        return "Your session has ended. Sign in again.";
      case "reauthentication_required":
        return "Confirm it's you to make this change: try again, and enter your password or a code when asked.";
      default:
        return error.message;
    }
  }

  // Shows a message in a status element; kind is "ok", "error" or "" (neutral).
  function say(element, text, kind) {
    element.textContent = text;
    element.dataset.kind = kind || "";
  }

  // Sends a form through fetch instead of the browser: its named fields as an object go to the
  // handler; buttons are disabled meanwhile; the form's .status element shows what happened.
  function onSubmit(form, handler) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const status = form.querySelector(".status");
      const buttons = [...form.querySelectorAll("button")];
      for (const button of buttons) button.disabled = true;
      if (status) say(status, "", "");
      try {
        await handler(Object.fromEntries(new FormData(form)), status);
      } catch (error) {
        if (status) say(status, "Something went wrong: " + error.message, "error");
      } finally {
        for (const button of buttons) button.disabled = false;
      }
    });
  }

  // A copy of a <template>'s first element, with each [data-field] filled from values.
  function row(template, values) {
    const node = template.content.firstElementChild.cloneNode(true);
    for (const slot of node.querySelectorAll("[data-field]")) slot.textContent = values[slot.dataset.field] ?? "";
    return node;
  }

  // A timestamp as the person's locale writes it.
  function when(iso) {
    return iso ? new Date(iso).toLocaleString() : "never";
  }

  // <button data-copy="id">: copies that element's text.
  document.addEventListener("click", (event) => {
    const button = event.target instanceof Element && event.target.closest("[data-copy]");
    if (!button) return;
    const text = document.getElementById(button.dataset.copy).textContent;
    navigator.clipboard.writeText(text).then(
      () => { button.textContent = "Copied"; },
      () => { button.textContent = "Copy failed: select the text and copy it"; },
    );
  });

  return { api, errorCode, explain, say, onSubmit, row, when, toSignIn };
})();
`;
