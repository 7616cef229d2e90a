import { PLANS } from "../onboarding/plans";
import { BUDDY_TONES } from "../schemas/preferences";
import { API_KEY_WARNING, Field, ShownOnce, Status } from "./components";
import { Layout } from "./layout";
import { COMMON_SCRIPT } from "./scripts/common";

/** The five stages, in the API's order, with what the wizard calls them. */
export const ONBOARDING_STAGES = [
  { id: "identity", label: "About you" },
  { id: "interests", label: "Interests" },
  { id: "buddy_config", label: "Your buddy" },
  { id: "plan", label: "Plan" },
  { id: "completion", label: "Finish" },
] as const;

/**
 * The wizard's client, over `GET /onboarding/status` and `POST /onboarding/complete`: it opens at
 * the stage the API says is current (so it resumes), fills each form from what was saved, moves
 * back and forward, and shows the API key the completing answer carries, once.
 */
const ONBOARDING_SCRIPT = `"use strict";
const $ = (id) => document.getElementById(id);
const wizard = $("wizard");
const stages = [...wizard.querySelectorAll("form[data-stage]")].map((form) => form.dataset.stage);
let status;

// Each stage's form fields as the API's data.
const collect = {
  identity: (f) => ({ displayName: f.displayName, locale: f.locale }),
  interests: (f) => ({ tags: f.tags.split(",").map((tag) => tag.trim()).filter(Boolean) }),
  buddy_config: (f) => ({ name: f.name, tone: f.tone, persona: f.persona }),
  plan: (f) => ({ plan: f.plan }),
  completion: () => ({}),
};

// Puts what was saved back into the forms.
function prefill(data) {
  const set = (id, value) => { if (value !== undefined && value !== null) $(id).value = value; };
  if (data.identity) { set("displayName", data.identity.displayName); set("locale", data.identity.locale); }
  if (data.interests) set("tags", data.interests.tags.join(", "));
  if (data.buddy_config) {
    set("buddy-name", data.buddy_config.name);
    set("persona", data.buddy_config.persona);
    const tone = wizard.querySelector('input[name="tone"][value="' + data.buddy_config.tone + '"]');
    if (tone) tone.checked = true;
  }
  if (data.plan) {
    const plan = wizard.querySelector('input[name="plan"][value="' + data.plan.plan + '"]');
    if (plan) plan.checked = true;
  }
}

function show(stage) {
  const at = stages.indexOf(stage);
  wizard.dataset.stage = stage;
  for (const form of wizard.querySelectorAll("form[data-stage]")) form.hidden = form.dataset.stage !== stage;
  for (const item of document.querySelectorAll("#progress li")) {
    const index = stages.indexOf(item.dataset.stage);
    item.dataset.state = status && status.done.includes(item.dataset.stage) ? "done" : "";
    if (index === at) item.setAttribute("aria-current", "step"); else item.removeAttribute("aria-current");
  }
  $("step").textContent = "Step " + (at + 1) + " of " + stages.length;
  const form = wizard.querySelector('form[data-stage="' + stage + '"]');
  const first = form.querySelector("input, textarea, button[type=submit]");
  if (first) first.focus();
}

// The stage to open: the API's current one, else the first not done.
function currentStage(body) {
  return body.current || stages.find((stage) => !body.done.includes(stage)) || "completion";
}

function finished(apiKey) {
  wizard.hidden = true;
  $("done").hidden = false;
  if (apiKey) {
    $("api-key").textContent = apiKey.key;
    $("api-key-box").hidden = false;
    $("api-key-box").dataset.prefix = apiKey.prefix;
  } else {
    $("already-done").hidden = false;
  }
  $("done-title").focus();
}

for (const form of wizard.querySelectorAll("form[data-stage]")) {
  const stage = form.dataset.stage;
  heady.onSubmit(form, async (fields, formStatus) => {
    const result = await heady.api("POST", "/onboarding/complete", { stage, data: collect[stage](fields) });
    if (heady.errorCode(result) === "onboarding_out_of_order") {
      // Not this stage's turn (a step saved before, or another tab got ahead): go where the API is.
      const now = await heady.api("GET", "/onboarding/status");
      if (!now.ok) return heady.say(formStatus, heady.explain(now), "error");
      status = now.body;
      const expected = currentStage(status);
      show(expected);
      heady.say(wizard.querySelector('form[data-stage="' + expected + '"] .status'), heady.explain(result), "");
      return;
    }
    if (!result.ok) {
      heady.say(formStatus, heady.explain(result), "error");
      return;
    }
    status = result.body;
    if (result.body.apiKey || result.body.completed) return finished(result.body.apiKey);
    show(stages[stages.indexOf(stage) + 1]);
  });
  const back = form.querySelector("[data-back]");
  if (back) back.addEventListener("click", () => show(stages[stages.indexOf(stage) - 1]));
}

(async () => {
  const result = await heady.api("GET", "/onboarding/status");
  if (!result.ok) return heady.say($("wizard-status"), heady.explain(result), "error");
  status = result.body;
  prefill(status.data || {});
  if (status.completed) return finished(undefined);
  wizard.hidden = false;
  show(currentStage(status));
})();
`;

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
    <Layout title="Set up HeadyBuddy" nonce={props.nonce} script={COMMON_SCRIPT + ONBOARDING_SCRIPT} session="required">
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
