/** Valid data for each data stage, in order, as a wizard would send it (shared by the workerd and e2e tests). */
export const STAGE_INPUTS = [
  { stage: "identity", data: { displayName: "Ada Lovelace", locale: "en-gb" } },
  { stage: "interests", data: { tags: ["Rust", "music", "rust"] } },
  { stage: "buddy_config", data: { name: "Pip", tone: "friendly", persona: "Patient and curious" } },
  { stage: "plan", data: { plan: "pro" } },
] as const;
