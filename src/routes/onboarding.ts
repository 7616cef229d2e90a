import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { assertRecentAuthentication } from "../account-security/recent-authentication";
import { apiKeyCreatedEvent, createdApiKeyBody, mintApiKey } from "../api-keys/create";
import { recordWithReceiptHeader } from "../audit/receipt-header";
import type { AppEnv } from "../context";
import { ROUTE_CREDENTIALS } from "../credentials/route-credentials";
import { sessionPrincipal } from "../credentials/session-principal";
import { ApiError } from "../errors";
import { lowerRole } from "../identity/roles";
import { savePreferencesDurably } from "../memory/durable-preferences";
import { requireRole } from "../middleware/require-role";
import { validationHook } from "../middleware/validation";
import { PLANS } from "../onboarding/plans";
import { preferencesFromStage } from "../onboarding/preferences";
import { CompleteStageBody, OnboardingStatus, OnboardingStepResult } from "../onboarding/schemas";
import { type DataStage, progressOf, STAGES, type Stage, type StageData } from "../onboarding/stages";
import { completeWithKey, savedStages, saveStage } from "../onboarding/store";
import { errorResponses, jsonBody, jsonResponse } from "../schemas/common";

/** Mounted at `/onboarding` (the hosted wizard's paths) and at `/api/onboarding` (API clients). */
export const onboardingRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

const TAG = ["Onboarding"];
/** The name completion gives the key it creates (its `description`, as `GET /api/auth/api-keys` lists it). */
export const ONBOARDING_KEY_NAME = "Onboarding key";

/** A signed-in person (session cookie or access token), never an API key: completion mints a key. */
const signedIn = requireRole("user", ROUTE_CREDENTIALS.onboarding);

/** The status body: where the caller stands, what each saved stage holds, and the plans to choose from. */
async function statusOf(c: Context<AppEnv>, userId: string) {
  const rows = await savedStages(c.get("db"), userId);
  const progress = progressOf(new Set(rows.map((row) => row.stage)));
  // Each row's data passed its stage's schema when it was saved.
  const data: Partial<{ [S in DataStage]: StageData[S] }> = {};
  for (const row of rows) if (row.stage !== "completion") Object.assign(data, { [row.stage]: row.data });
  return { stages: [...STAGES], ...progress, data, plans: PLANS.map(({ id, name, summary }) => ({ id, name, summary })) };
}

function outOfOrder(stage: Stage, current: Stage | null): ApiError {
  return new ApiError("onboarding_out_of_order", `The stage "${stage}" comes later: complete "${current}" first.`);
}

onboardingRoutes.openapi(
  createRoute({
    method: "get",
    path: "/status",
    tags: TAG,
    summary: "Where the caller stands in onboarding",
    middleware: [signedIn] as const,
    responses: {
      200: jsonResponse(OnboardingStatus, "Stages done, the current and next one, saved data, plans"),
      ...errorResponses(401, 403),
    },
  }),
  async (c) => c.json(await statusOf(c, sessionPrincipal(c).userId), 200),
);

onboardingRoutes.openapi(
  createRoute({
    method: "post",
    path: "/complete",
    tags: TAG,
    summary: "Save one onboarding stage",
    description:
      "Completion, which mints an API key, needs a sign-in or re-authentication within the last 10 minutes (401 `reauthentication_required`). Stages go in order (identity, interests, buddy_config, plan, completion); a later one than `current` is 409 `onboarding_out_of_order`, naming the stage expected. Saving a done stage again replaces its data. The response that completes onboarding carries `apiKey`, a new `hdy_` key shown only there and created exactly once, even for concurrent completions; completion sent again answers the status without it.",
    middleware: [signedIn] as const,
    request: { body: jsonBody(CompleteStageBody) },
    responses: {
      200: jsonResponse(OnboardingStepResult, "Saved; the status as it is now"),
      ...errorResponses(400, 401, 403, 409, 413),
    },
  }),
  async (c) => {
    const principal = sessionPrincipal(c);
    const body = c.req.valid("json");
    const db = c.get("db");
    if (body.stage !== "completion") {
      if (!(await saveStage(db, principal.userId, body.stage, body.data))) {
        throw outOfOrder(body.stage, (await statusOf(c, principal.userId)).current);
      }
      // Into user memory as well: recorded in D1 now and written to pgvector in the background, so a
      // memory store that is down never fails the stage (it is retried). Should this D1 write fail,
      // the request fails and sending the stage again (idempotent) records it.
      const preferences = preferencesFromStage(body.stage, body.data);
      if (preferences)
        await savePreferencesDurably(c.env, (work) => c.executionCtx.waitUntil(work), principal.userId, preferences, c.get("audit"));
      await c.get("audit").record({ type: "onboarding.stage_saved", subject: principal.userId, details: { stage: body.stage } });
      return c.json(await statusOf(c, principal.userId), 200);
    }

    // Completion mints an API key, which outlives the session: like `POST /api/auth/api-keys`, it
    // needs a recent sign-in, so a stolen token cannot finish someone's onboarding for a key.
    assertRecentAuthentication(principal);
    // A key like one `POST /api/auth/api-keys` makes by default: role `user` at most, no scopes, no expiry.
    const { key, row } = await mintApiKey({
      userId: principal.userId,
      description: ONBOARDING_KEY_NAME,
      role: lowerRole("user", principal.role),
      scopes: [],
      expiresAt: null,
    });
    const outcome = await completeWithKey(db, row);
    const status = await statusOf(c, principal.userId);
    if (outcome === "out_of_order") throw outOfOrder("completion", status.current);
    if (outcome === "already_completed") return c.json(status, 200);
    await c.get("audit").record({ type: "onboarding.completed", subject: principal.userId, details: { apiKeyId: row.id } });
    await recordWithReceiptHeader(c, apiKeyCreatedEvent(row, { via: "onboarding" }));
    return c.json({ ...status, apiKey: createdApiKeyBody(row, key) }, 200);
  },
);
