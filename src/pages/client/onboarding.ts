/**
 * The onboarding wizard (src/pages/onboarding.tsx), over `GET /onboarding/status` and
 * `POST /onboarding/complete`: it opens at the stage the API says is current (so it resumes), fills
 * each form from what was saved, moves back and forward, and shows the API key the completing
 * answer carries, once.
 */
import type { z } from "@hono/zod-openapi";
import type { BUDDY_TONES } from "../../memory/preference-schemas";
import type { PLAN_IDS } from "../../onboarding/plans";
import type { OnboardingStatus, OnboardingStepResult } from "../../onboarding/schemas";
import type { STAGE_DATA, Stage } from "../../onboarding/stages";
import { api } from "./shared/api";
import { byId, enableCopyButtons, onSubmit, say, sayFailed } from "./shared/dom";
import { explain } from "./shared/explain";
import { errorCode, type JsonOf } from "./shared/request";

type Progress = JsonOf<typeof OnboardingStatus>;
type CreatedKey = NonNullable<JsonOf<typeof OnboardingStepResult>["apiKey"]>;

/** The wizard's named fields; each stage's form has its own few. */
interface WizardFields {
  displayName: string;
  locale: string;
  tags: string;
  name: string;
  tone: string;
  persona: string;
  plan: string;
}

enableCopyButtons();

const wizard = byId("wizard");
const stageForms = [...wizard.querySelectorAll<HTMLFormElement>("form[data-stage]")];
/** The stages in the order the page renders them, which is the API's. */
const stages = stageForms.map((form) => form.dataset.stage as Stage);
/** Where the person stands, as the API last said. */
let progress: Progress | undefined;

/** Each stage's form fields as the API's data for that stage (the radio values are rendered from the same lists). */
const collect: { [S in Stage]: (fields: WizardFields) => z.input<(typeof STAGE_DATA)[S]> } = {
  identity: (f) => ({ displayName: f.displayName, locale: f.locale }),
  interests: (f) => ({
    tags: f.tags
      .split(",")
      .map((tag) => tag.trim())
      .filter(Boolean),
  }),
  buddy_config: (f) => ({ name: f.name, tone: f.tone as (typeof BUDDY_TONES)[number], persona: f.persona }),
  plan: (f) => ({ plan: f.plan as (typeof PLAN_IDS)[number] }),
  completion: () => ({}),
};

const formOf = (stage: Stage) => wizard.querySelector<HTMLFormElement>(`form[data-stage="${stage}"]`)!;

/** Puts what was saved back into the forms. */
function prefill(data: Progress["data"]): void {
  const set = (id: string, value: string | null | undefined) => {
    if (value !== undefined && value !== null) byId<HTMLInputElement | HTMLTextAreaElement>(id).value = value;
  };
  const check = (name: string, value: string) => {
    const input = wizard.querySelector<HTMLInputElement>(`input[name="${name}"][value="${value}"]`);
    if (input) input.checked = true;
  };
  if (data.identity) {
    set("displayName", data.identity.displayName);
    set("locale", data.identity.locale);
  }
  if (data.interests) set("tags", data.interests.tags.join(", "));
  if (data.buddy_config) {
    set("buddy-name", data.buddy_config.name);
    set("persona", data.buddy_config.persona);
    check("tone", data.buddy_config.tone);
  }
  if (data.plan) check("plan", data.plan.plan);
}

function show(stage: Stage): void {
  const at = stages.indexOf(stage);
  wizard.dataset.stage = stage;
  for (const form of stageForms) form.hidden = form.dataset.stage !== stage;
  for (const item of document.querySelectorAll<HTMLElement>("#progress li")) {
    const itemStage = item.dataset.stage as Stage;
    item.dataset.state = progress?.done.includes(itemStage) ? "done" : "";
    if (stages.indexOf(itemStage) === at) item.setAttribute("aria-current", "step");
    else item.removeAttribute("aria-current");
  }
  byId("step").textContent = `Step ${at + 1} of ${stages.length}`;
  formOf(stage).querySelector<HTMLElement>("input, textarea, button[type=submit]")?.focus();
}

/** The stage to open: the API's current one, else the first not done. */
function currentStage(body: Progress): Stage {
  return body.current || stages.find((stage) => !body.done.includes(stage)) || "completion";
}

function finished(apiKey: CreatedKey | undefined): void {
  wizard.hidden = true;
  byId("done").hidden = false;
  if (apiKey) {
    byId("api-key").textContent = apiKey.key;
    byId("api-key-box").hidden = false;
    byId("api-key-box").dataset.prefix = apiKey.prefix;
  } else {
    byId("already-done").hidden = false;
  }
  byId("done-title").focus();
}

for (const form of stageForms) {
  const stage = form.dataset.stage as Stage;
  onSubmit(form, async (fields: WizardFields, formStatus) => {
    const result = await api<JsonOf<typeof OnboardingStepResult>>("POST", "/onboarding/complete", { stage, data: collect[stage](fields) });
    if (errorCode(result) === "onboarding_out_of_order") {
      // Not this stage's turn (a step saved before, or another tab got ahead): go where the API is.
      const now = await api<Progress>("GET", "/onboarding/status");
      if (!now.ok) return sayFailed(formStatus, now);
      progress = now.body;
      const expected = currentStage(progress);
      show(expected);
      say(formOf(expected).querySelector(".status"), explain(result), "");
      return;
    }
    if (!result.ok) return sayFailed(formStatus, result);
    progress = result.body;
    if (result.body.apiKey || result.body.completed) return finished(result.body.apiKey);
    show(stages[stages.indexOf(stage) + 1]!);
  });
  form.querySelector("[data-back]")?.addEventListener("click", () => show(stages[stages.indexOf(stage) - 1]!));
}

(async () => {
  const result = await api<Progress>("GET", "/onboarding/status");
  if (!result.ok) return sayFailed(byId("wizard-status"), result);
  progress = result.body;
  prefill(progress.data || {});
  if (progress.completed) return finished(undefined);
  wizard.hidden = false;
  show(currentStage(progress));
})();
