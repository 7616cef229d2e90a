/**
 * The plans a person can choose during onboarding. One table, so the onboarding stage, the memory
 * preferences and the hosted wizard all offer and accept the same ids.
 */
export const PLANS = [
  { id: "free", name: "Free", summary: "HeadyBuddy and one API key, for trying things out" },
  { id: "pro", name: "Pro", summary: "Higher limits and PQC tokens for your own services" },
  { id: "team", name: "Team", summary: "Shared workspaces, operators and audit export" },
] as const;

export type PlanId = (typeof PLANS)[number]["id"];

export const PLAN_IDS = PLANS.map((plan) => plan.id) as [PlanId, ...PlanId[]];
