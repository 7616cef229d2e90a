import { BUDDY_TONES } from "../memory/preference-schemas";
import { PLANS } from "../onboarding/plans";
import { API_KEY_WARNING, Field, ShownOnce, Status } from "./components";
import { Layout } from "./layout";

/** The five stages, in the API's order, with what the wizard calls them. */
export const ONBOARDING_STAGES = [
  { id: "identity", label: "About you" },
  { id: "interests", label: "Interests" },
  { id: "buddy_config", label: "Your buddy" },
  { id: "plan", label: "Plan" },
  { id: "completion", label: "Finish" },
] as const;

function StageActions(props: { first?: boolean; submit: string }) {
  return (
    <div class="actions">
      {props.first ? null : (
        <button type="button" class="secondary" data-back>
          Back
        </button>
      )}
      <button type="submit">{props.submit}</button>
    </div>
  );
}

function StageForm(props: { stage: string; title: string; first?: boolean; submit?: string; children?: unknown }) {
  return (
    <form data-stage={props.stage} method="post" action="/onboarding/complete" hidden aria-labelledby={`${props.stage}-title`}>
      <h2 id={`${props.stage}-title`}>{props.title}</h2>
      {props.children}
      <StageActions first={props.first} submit={props.submit ?? "Next"} />
      <Status />
    </form>
  );
}

export function OnboardingPage(props: { nonce: string }) {
  return (
    <Layout title="Set up HeadyBuddy" nonce={props.nonce} script="onboarding" session="required">
      <Status id="wizard-status" />
      <div id="wizard" hidden>
        <ol class="progress" id="progress" aria-label="Progress">
          {ONBOARDING_STAGES.map((stage) => (
            <li data-stage={stage.id}>{stage.label}</li>
          ))}
        </ol>
        <p id="step" class="hint" aria-live="polite" />

        <StageForm stage="identity" title="About you" first>
          <Field id="displayName" label="Display name" autocomplete="nickname" maxlength={80} required />
          <Field
            id="locale"
            label="Language"
            autocomplete="language"
            required
            value="en"
            hint="A language tag such as en, en-GB or pt-BR."
          />
        </StageForm>

        <StageForm stage="interests" title="Your interests">
          <Field id="tags" label="Interests" required hint="Separate them with commas, for example: music, cooking, rust." />
        </StageForm>

        <StageForm stage="buddy_config" title="Your buddy">
          <Field id="buddy-name" name="name" label="Buddy's name" maxlength={40} required />
          <fieldset>
            <legend>Tone</legend>
            {BUDDY_TONES.map((tone, index) => (
              <label class="choice">
                <input type="radio" name="tone" value={tone} required checked={index === 0} /> {tone[0]!.toUpperCase() + tone.slice(1)}
              </label>
            ))}
          </fieldset>
          <label for="persona">Persona (optional)</label>
          <textarea id="persona" name="persona" maxlength={500} aria-describedby="persona-hint" />
          <p class="hint" id="persona-hint">
            How your buddy should come across, in a sentence or two.
          </p>
        </StageForm>

        <StageForm stage="plan" title="Choose a plan">
          <fieldset>
            <legend>Plan</legend>
            {PLANS.map((plan, index) => (
              <label class="choice">
                <input type="radio" name="plan" value={plan.id} required checked={index === 0} />
                <span>
                  <strong>{plan.name}</strong>
                  <span class="meta">{plan.summary}</span>
                </span>
              </label>
            ))}
          </fieldset>
        </StageForm>

        <StageForm stage="completion" title="All set" submit="Finish and create my API key">
          <p>Finishing creates your first API key. It is shown once, on the next screen.</p>
        </StageForm>
      </div>

      <section id="done" hidden aria-labelledby="done-title">
        <h2 id="done-title" tabindex={-1}>
          You are all set
        </h2>
        <ShownOnce id="api-key" label="Your API key" warning={API_KEY_WARNING} />
        <p id="already-done" hidden>
          Onboarding is complete. Your API keys are on your account page.
        </p>
        <p>
          <a class="button" href="/account">
            Go to your account
          </a>
        </p>
      </section>
    </Layout>
  );
}
