import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { recordWithReceiptHeader } from "../audit/receipt-header";
import type { AppEnv } from "../context";
import { ROUTE_CREDENTIALS } from "../credentials/route-credentials";
import type { OAuthClientRow } from "../db/schema";
import { ApiError } from "../errors";
import { requireRole } from "../middleware/require-role";
import { validationHook } from "../middleware/validation";
import {
  ClientIdParam,
  CreateOAuthClientBody,
  clientFieldProblems,
  DEFAULT_SECRET_OVERLAP_SECONDS,
  OAuthClient,
  type OAuthClientFields,
  OAuthClientList,
  OAuthClientWithSecret,
  RotateSecretBody,
  UpdateOAuthClientBody,
} from "../oauth/client-schemas";
import {
  clientFieldsOf,
  clientView,
  createClient,
  deleteClient,
  findClient,
  listClients,
  rotateClientSecret,
  updateClient,
  withDefaults,
} from "../oauth/clients";
import { errorResponses, jsonBody, jsonResponse } from "../schemas/common";

/** The registry of apps that sign people in through HeadyKey (docs/oauth.md): admins only, a person's session only. */
export const oauthClientRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

const TAG = ["OAuth clients"];
const adminOnly = requireRole("admin", ROUTE_CREDENTIALS.oauthClients);

function assertConsistent(fields: OAuthClientFields): void {
  const problems = clientFieldProblems(fields);
  if (problems.length > 0) throw new ApiError("invalid_request", `${problems.join("; ")}.`);
}

async function existingClient(c: Context<AppEnv>, id: string): Promise<OAuthClientRow> {
  const row = await findClient(c.get("db"), id);
  if (!row) throw new ApiError("not_found", "No such client.");
  return row;
}

oauthClientRoutes.openapi(
  createRoute({
    method: "post",
    path: "/",
    tags: TAG,
    summary: "Register an app (admin)",
    description:
      "Every field but `name` has a default: a confidential web app (`client_secret_basic`) with the OIDC scopes, RS256 and 10-minute tokens. The secret is in this response only; HeadyKey keeps its SHA-256.",
    middleware: [adminOnly] as const,
    request: { body: jsonBody(CreateOAuthClientBody) },
    responses: { 201: jsonResponse(OAuthClientWithSecret, "The client and its secret, shown once"), ...errorResponses(400, 401, 403) },
  }),
  async (c) => {
    const fields = withDefaults(c.req.valid("json"));
    assertConsistent(fields);
    const actor = c.get("principal").userId;
    const { row, secret } = await createClient(c.get("db"), fields, actor);
    await recordWithReceiptHeader(c, { type: "oauth_client.created", subject: row.id, actor, details: { name: row.name } });
    return c.json({ ...clientView(row), clientSecret: secret }, 201);
  },
);

oauthClientRoutes.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags: TAG,
    summary: "List the registered apps (admin)",
    middleware: [adminOnly] as const,
    responses: { 200: jsonResponse(OAuthClientList, "Every client, oldest first"), ...errorResponses(401, 403) },
  }),
  async (c) => c.json({ clients: (await listClients(c.get("db"))).map(clientView) }, 200),
);

oauthClientRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{id}",
    tags: TAG,
    summary: "One registered app (admin)",
    middleware: [adminOnly] as const,
    request: { params: ClientIdParam },
    responses: { 200: jsonResponse(OAuthClient, "The client"), ...errorResponses(400, 401, 403, 404) },
  }),
  async (c) => c.json(clientView(await existingClient(c, c.req.valid("param").id)), 200),
);

oauthClientRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/{id}",
    tags: TAG,
    summary: "Change a registered app (admin)",
    description:
      "Fields left out keep their value. Switching to an auth method without a secret deletes the secret; switching to one with a secret mints it and returns it once.",
    middleware: [adminOnly] as const,
    request: { params: ClientIdParam, body: jsonBody(UpdateOAuthClientBody) },
    responses: { 200: jsonResponse(OAuthClientWithSecret, "The client as changed"), ...errorResponses(400, 401, 403, 404) },
  }),
  async (c) => {
    const row = await existingClient(c, c.req.valid("param").id);
    const change = Object.fromEntries(Object.entries(c.req.valid("json")).filter(([, value]) => value !== undefined));
    const fields = { ...clientFieldsOf(row), ...change } as OAuthClientFields;
    assertConsistent(fields);
    const updated = await updateClient(c.get("db"), row, fields);
    await recordWithReceiptHeader(c, {
      type: "oauth_client.updated",
      subject: row.id,
      actor: c.get("principal").userId,
      details: { fields: Object.keys(change) },
    });
    return c.json({ ...clientView(updated.row), clientSecret: updated.secret }, 200);
  },
);

oauthClientRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/{id}",
    tags: TAG,
    summary: "Delete a registered app (admin)",
    description: "Its codes, refresh tokens and consents go with it; access tokens it holds end with their lifetime.",
    middleware: [adminOnly] as const,
    request: { params: ClientIdParam },
    responses: { 204: { description: "Deleted" }, ...errorResponses(400, 401, 403, 404) },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    if (!(await deleteClient(c.get("db"), id))) throw new ApiError("not_found", "No such client.");
    await recordWithReceiptHeader(c, { type: "oauth_client.deleted", subject: id, actor: c.get("principal").userId });
    return c.body(null, 204);
  },
);

oauthClientRoutes.openapi(
  createRoute({
    method: "post",
    path: "/{id}/rotate-secret",
    tags: TAG,
    summary: "Rotate an app's secret (admin)",
    description:
      "Returns the new secret once. The previous secret keeps working for `overlapSeconds` (default a day; 0 ends it at once), so the app can roll the new one out without an outage.",
    middleware: [adminOnly] as const,
    request: { params: ClientIdParam, body: { required: false, content: { "application/json": { schema: RotateSecretBody } } } },
    responses: {
      200: jsonResponse(OAuthClientWithSecret.extend({ clientSecret: z.string() }), "The client and its new secret"),
      ...errorResponses(400, 401, 403, 404),
    },
  }),
  async (c) => {
    const row = await existingClient(c, c.req.valid("param").id);
    if (row.secretHash === null) throw new ApiError("invalid_request", "This client authenticates without a secret.");
    // The body is optional: without one the validator hands over nothing, and the default overlap applies.
    const overlapSeconds =
      (c.req.valid("json") as { overlapSeconds?: number } | undefined)?.overlapSeconds ?? DEFAULT_SECRET_OVERLAP_SECONDS;
    const rotated = await rotateClientSecret(c.get("db"), row, overlapSeconds);
    await recordWithReceiptHeader(c, {
      type: "oauth_client.secret_rotated",
      subject: row.id,
      actor: c.get("principal").userId,
      details: { overlapSeconds },
    });
    return c.json({ ...clientView(rotated.row), clientSecret: rotated.secret }, 200);
  },
);
