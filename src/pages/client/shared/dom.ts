import { explain } from "./explain";
import type { ApiResult } from "./request";

/** The page's element with this id; the page renders it, so its absence is a bug, said as such. */
export function byId<Element extends HTMLElement = HTMLElement>(id: string): Element {
  const element = document.getElementById(id);
  if (!element) throw new Error(`The page has no #${id}`);
  return element as Element;
}

/** A new element with these properties. */
export function el<Tag extends keyof HTMLElementTagNameMap>(
  tag: Tag,
  properties: Partial<HTMLElementTagNameMap[Tag]> = {},
): HTMLElementTagNameMap[Tag] {
  return Object.assign(document.createElement(tag), properties);
}

/** How a status line reads: a success, a failure, or neutral. */
export type StatusKind = "ok" | "error" | "";

/** Shows a message in a status element (a form without a status line shows nothing). */
export function say(element: HTMLElement | null, text: string, kind: StatusKind): void {
  if (!element) return;
  element.textContent = text;
  element.dataset.kind = kind;
}

/** Shows why a call failed, as `explain()` words it, optionally after what did not happen. */
export function sayFailed(element: HTMLElement | null, result: ApiResult, prefix = ""): void {
  say(element, prefix + explain(result), "error");
}

/** The message of something thrown. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Sends a form through fetch instead of the browser: its named fields, as an object, go to the
 * handler; its buttons are disabled meanwhile; its `.status` element shows what happened.
 */
export function onSubmit<Fields extends Record<keyof Fields, string>>(
  form: HTMLFormElement,
  handler: (fields: Fields, status: HTMLElement | null) => Promise<unknown>,
): void {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const status = form.querySelector<HTMLElement>(".status");
    const buttons = [...form.querySelectorAll("button")];
    for (const button of buttons) button.disabled = true;
    say(status, "", "");
    try {
      // The pages' forms have text fields only, so every value is a string.
      await handler(Object.fromEntries(new FormData(form)) as Fields, status);
    } catch (error) {
      say(status, `Something went wrong: ${messageOf(error)}`, "error");
    } finally {
      for (const button of buttons) button.disabled = false;
    }
  });
}

/** A copy of a `<template>`'s first element, with each `[data-field]` filled from values. */
export function row(template: HTMLTemplateElement, values: Record<string, string>): HTMLElement {
  const node = template.content.firstElementChild!.cloneNode(true) as HTMLElement;
  for (const slot of node.querySelectorAll<HTMLElement>("[data-field]")) slot.textContent = values[slot.dataset.field!] ?? "";
  return node;
}

/** A timestamp as the person's locale writes it. */
export function when(iso: string | null | undefined): string {
  return iso ? new Date(iso).toLocaleString() : "never";
}

/** `<button data-copy="id">` (a secret shown once): copies that element's text. */
export function enableCopyButtons(): void {
  document.addEventListener("click", (event) => {
    const button = event.target instanceof Element ? event.target.closest<HTMLElement>("[data-copy]") : null;
    if (!button) return;
    navigator.clipboard.writeText(byId(button.dataset.copy!).textContent ?? "").then(
      () => {
        button.textContent = "Copied";
      },
      () => {
        button.textContent = "Copy failed: select the text and copy it";
      },
    );
  });
}
