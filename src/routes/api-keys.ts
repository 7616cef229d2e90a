import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { apiKeyCreatedEvent, createdApiKeyBody, mintApiKey } from "../api-keys/create";
import { ApiKeyList, CreateApiKeyBody, CreatedApiKey, KeyIdParam, ListApiKeysQuery } from "../api-keys/schemas";
import { assertGrantableScopes } from "../api-keys/scopes";
import { findApiKeyById, insertApiKey, listApiKeys, revokeApiKey } from "../api-keys/store";
import { recordWithReceiptHeader } from "../audit/receipt-header";
import type { AppEnv } from "../context";
import { evictCachedApiKey } from "../credentials/revocable-state";
import { ROUTE_CREDENTIALS } from "../credentials/route-credentials";
import { decodeCursor, page } from "../db/cursor";
import type { ApiKeyRow } from "../db/schema";
import { ApiError } from "../errors";
import { isRole, lowerRole, type Role, roleAtLeast } from "../identity/roles";
import { findUserById } from "../identity/users";
import { requireRecentAuthentication } from "../middleware/require-recent-authentication";
import { requireRole } from "../middleware/require-role";
import { validationHook } from "../middleware/validation";
import { API_KEY_CREATION_PER_USER, consumeRateLimit } from "../rate-limit/limits";
import { errorResponses, isoTime, jsonBody, jsonResponse } from "../schemas/common";

export const apiKeyRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

const TAG = ["API keys"];
const DAY_MS = 24 * 60 * 60 * 1000;

function summary(key: ApiKeyRow) {
  return {
    id: key.id,
    prefix: key.displayPrefix,
    description: key.description,
    ownerId: key.userId,
    role: key.role,
    scopes: key.scopes,
    createdAt: new Date(key.createdAt).toISOString(),
    expiresAt: isoTime(key.expiresAt),
    revokedAt: isoTime(key.revokedAt),
    lastUsedAt: isoTime(key.lastUsedAt),
  };
}

/** Key management needs a person's session: a leaked key must not be able to mint or revoke keys. */
const ownerSession = requireRole("user", ROUTE_CREDENTIALS.apiKeys);

apiKeyRoutes.openapi(
  createRoute({
    method: "post",
    path: "/",
    tags: TAG,
    summary: "Create an API key (shown once)",
    description:
      "Returns the key once; only its SHA-256 and a display prefix are stored. The key's role is at most the owner's current role. Scopes come from a fixed list (`pqc`, `pqc:<service>`, `sage:bootstrap[:<mesh role>]`, the gateway's API-key scopes): an unknown one is 400, one the owner's role cannot grant 403, and every use re-checks them against the owner's current role. Rate-limited per account.",
    middleware: [ownerSession, requireRecentAuthentication()] as const,
    request: { body: jsonBody(CreateApiKeyBody) },
    responses: {
      201: jsonResponse(CreatedApiKey, "Created"),
      ...errorResponses(400, 401, 403, 429),
    },
  }),
  async (c) => {
    const principal = c.get("principal");
    const body = c.req.valid("json");
    const db = c.get("db");
    await consumeRateLimit(c.env, API_KEY_CREATION_PER_USER, principal.userId);

    // The owner's role now, from D1: a token minted before a demotion must not lend its old role.
    const owner = await findUserById(db, principal.userId);
    if (!owner || owner.disabledAt !== null) throw new ApiError("unauthorized", "The account is not active.");
    const requested = body.role ?? lowerRole("user", owner.role);
    if (!isRole(requested) || !roleAtLeast(owner.role, requested)) {
      throw new ApiError("forbidden", `A key's role cannot exceed its owner's role (${owner.role}).`);
    }
    const scopes = body.scopes ?? [];
    assertGrantableScopes(c.get("config"), owner.role, scopes);

    const { key, row } = await mintApiKey({
      userId: owner.id,
      description: body.description,
      role: requested as Role,
      scopes,
      expiresAt: body.ttlDays ? Date.now() + body.ttlDays * DAY_MS : null,
    });
    await insertApiKey(db, row);
    await recordWithReceiptHeader(c, apiKeyCreatedEvent(row));
    return c.json(createdApiKeyBody(row, key), 201);
  },
);

apiKeyRoutes.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags: TAG,
    summary: "List API keys (never their secrets)",
    description: "The caller's keys, newest first. Admins may pass `all=true` for every user's keys.",
    middleware: [ownerSession] as const,
    request: { query: ListApiKeysQuery },
    responses: {
      200: jsonResponse(ApiKeyList, "Keys"),
      ...errorResponses(400, 401, 403),
    },
  }),
  async (c) => {
    const principal = c.get("principal");
    const query = c.req.valid("query");
    const everyone = query.all === "true";
    if (everyone && !roleAtLeast(principal.role, "admin")) {
      throw new ApiError("forbidden", "Listing every user's keys requires the admin role.");
    }
    const rows = await listApiKeys(c.get("db"), {
      userId: everyone ? undefined : principal.userId,
      cursor: decodeCursor(query.cursor),
      limit: query.limit + 1,
    });
    const result = page(rows, query.limit);
    return c.json({ keys: result.rows.map(summary), nextCursor: result.nextCursor }, 200);
  },
);

apiKeyRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/{id}",
    tags: TAG,
    summary: "Revoke an API key",
    description: "Effective on the next request. Another user's key answers 404, except for admins.",
    middleware: [ownerSession] as const,
    request: { params: KeyIdParam },
    responses: { 204: { description: "Revoked" }, ...errorResponses(400, 401, 403, 404) },
  }),
  async (c) => {
    const principal = c.get("principal");
    const { id } = c.req.valid("param");
    const db = c.get("db");
    const key = await findApiKeyById(db, id);
    // Someone else's key is indistinguishable from no key, so ids cannot be probed.
    if (!key || (key.userId !== principal.userId && !roleAtLeast(principal.role, "admin"))) {
      throw new ApiError("not_found", "No such API key.");
    }
    if (await revokeApiKey(db, id)) {
      evictCachedApiKey(id);
      await recordWithReceiptHeader(c, {
        type: "api_key.revoked",
        subject: id,
        actor: principal.userId,
        details: { prefix: key.displayPrefix, owner: key.userId },
      });
    }
    return c.body(null, 204);
  },
);
