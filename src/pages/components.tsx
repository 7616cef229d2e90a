import type { Child } from "hono/jsx";

interface FieldProps {
  id: string;
  label: string;
  /** The form field's name; defaults to the id. */
  name?: string;
  type?: string;
  autocomplete?: string;
  required?: boolean;
  hint?: string;
  inputmode?: "numeric" | "text" | "email";
  pattern?: string;
  maxlength?: number;
  value?: string;
}

/** A labelled input, with its hint tied to it by aria-describedby. */
export function Field(props: FieldProps) {
  const hintId = props.hint ? `${props.id}-hint` : undefined;
  return (
    <>
      <label for={props.id}>{props.label}</label>
      <input
        id={props.id}
        name={props.name ?? props.id}
        type={props.type ?? "text"}
        autocomplete={props.autocomplete}
        required={props.required}
        inputmode={props.inputmode}
        pattern={props.pattern}
        maxlength={props.maxlength}
        value={props.value}
        aria-describedby={hintId}
      />
      {props.hint ? (
        <p class="hint" id={hintId}>
          {props.hint}
        </p>
      ) : null}
    </>
  );
}

/** Where a form or section reports what happened; screen readers hear it when it changes. */
export function Status(props: { id?: string }) {
  return <p class="status" id={props.id} role="status" aria-live="polite" />;
}

/** A titled section of a page, ending with its status line (`<id>-status`). */
export function Card(props: { id: string; title: string; children?: Child }) {
  return (
    <section class="card" id={props.id} aria-labelledby={`${props.id}-title`}>
      <h2 id={`${props.id}-title`}>{props.title}</h2>
      {props.children}
      <Status id={`${props.id}-status`} />
    </section>
  );
}

/** A secret shown once: the value, a copy button and the warning that it cannot be shown again. */
export function ShownOnce(props: { id: string; label: string; warning: string }) {
  return (
    <div id={`${props.id}-box`} hidden>
      <p>
        <strong>{props.label}</strong>
      </p>
      <p class="secret" id={props.id} />
      <p class="warning" role="note">
        {props.warning}
      </p>
      <button type="button" class="secondary" data-copy={props.id}>
        Copy
      </button>
    </div>
  );
}

/** The card's warning for an API key, where it is shown. */
export const API_KEY_WARNING = "This key is shown once. Store it securely; it cannot be shown again.";
