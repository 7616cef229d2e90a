import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { createMiddleware } from "hono/factory";
import { MEMORY_READ_SCOPE } from "../api-keys/scopes";
import type { AppEnv } from "../context";
import { ROUTE_CREDENTIALS } from "../credentials/route-credentials";
import { ApiError } from "../errors";
import { type AppliedPreferences, applyPendingPreferences, retryPendingPreferencesFor } from "../memory/durable-preferences";
import { MAX_MEMORY_TEXT_CHARS, MAX_TEXT_MEMORIES_PER_USER } from "../memory/limits";
import { openMemory } from "../memory/open";
import { discardPendingPreferences, recordPendingPreferences } from "../memory/pending-preferences";
import {
  AddMemoryBody,
  DeletedMemory,
  MemoryIdParam,
  MemoryItemSchema,
  MemoryList,
  MemorySearchResult,
  SearchMemoryBody,
  UpdatePreferencesBody,
} from "../memory/schemas";
import { requireRole } from "../middleware/require-role";
import { validationHook } from "../middleware/validation";
import { errorResponses, jsonBody, jsonResponse } from "../schemas/common";

export const memoryRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

const TAG = ["User memory"];

/**
 * Opens the caller's memory for the request and first applies any preferences update still
 * pending from an outage, so the caller sees their own writes.
 */
const withRequestMemory = createMiddleware<AppEnv>(async function withRequestMemory(c, next) {
  const memory = openMemory(c.env);
  c.set("memory", memory);
  await retryPendingPreferencesFor(c.get("db"), memory, c.get("principal").userId, c.get("audit"));
  await next();
});

const readSession = requireRole("user", ROUTE_CREDENTIALS.memoryRead);
const writeSession = requireRole("user", ROUTE_CREDENTIALS.memoryWrite);

/** An API key reads memory only with the `memory:read` scope. */
const readScope = createMiddleware<AppEnv>(async function readScope(c, next) {
  const principal = c.get("principal");
  if (principal.kind === "api_key" && !principal.scopes.includes(MEMORY_READ_SCOPE)) {
    throw new ApiError("forbidden", `Reading memory with an API key needs the ${MEMORY_READ_SCOPE} scope.`, {
      "WWW-Authenticate": `Bearer error="insufficient_scope", scope="${MEMORY_READ_SCOPE}"`,
    });
  }
  await next();
});

memoryRoutes.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags: TAG,
    summary: "List your memory",
    description: "Your preferences and text memories, newest first, with your usage of the limits.",
    middleware: [readSession, readScope, withRequestMemory] as const,
    responses: { 200: jsonResponse(MemoryList, "Your items"), ...errorResponses(401, 403, 503) },
  }),
  async (c) => {
    const { store } = c.get("memory");
    const userId = c.get("principal").userId;
    const items = await store.list(userId);
    const textItems = items.filter((item) => item.kind === "text").length;
    return c.json({ items, limits: { textItems, maxTextItems: MAX_TEXT_MEMORIES_PER_USER, maxChars: MAX_MEMORY_TEXT_CHARS } }, 200);
  },
);

memoryRoutes.openapi(
  createRoute({
    method: "put",
    path: "/preferences",
    tags: TAG,
    summary: "Update your preferences",
    description:
      "Merges the fields given into your stored preferences (the onboarding fields: display name, locale, interests, buddy, plan) and re-embeds them.",
    middleware: [writeSession, withRequestMemory] as const,
    request: { body: jsonBody(UpdatePreferencesBody) },
    responses: { 200: jsonResponse(MemoryItemSchema, "The preferences item"), ...errorResponses(400, 401, 403, 503) },
  }),
  async (c) => {
    const memory = c.get("memory");
    const db = c.get("db");
    const userId = c.get("principal").userId;
    // Through the pending table, like onboarding's writes, so the two are applied in one order.
    const pendingId = await recordPendingPreferences(db, userId, c.req.valid("json"));
    let applied: AppliedPreferences;
    try {
      applied = await applyPendingPreferences(db, memory, userId, c.get("audit"));
    } catch (error) {
      // The caller is told it failed, so it must not be applied later behind their back.
      await discardPendingPreferences(db, pendingId);
      throw error;
    }
    // Not reached while the schema admits only storable text; should the store still refuse the
    // update as bad data, the caller is told so rather than shown preferences without it.
    if (applied.dropped.includes(pendingId)) throw new ApiError("invalid_request", "The memory store cannot hold these preferences.");
    return c.json(applied.item!, 200);
  },
);

memoryRoutes.openapi(
  createRoute({
    method: "post",
    path: "/",
    tags: TAG,
    summary: "Add a text memory",
    description: `At most ${MAX_MEMORY_TEXT_CHARS} characters; at most ${MAX_TEXT_MEMORIES_PER_USER} text memories per user (then 409).`,
    middleware: [writeSession, withRequestMemory] as const,
    request: { body: jsonBody(AddMemoryBody) },
    responses: { 201: jsonResponse(MemoryItemSchema, "Added"), ...errorResponses(400, 401, 403, 409, 503) },
  }),
  async (c) => {
    const { store, embedder } = c.get("memory");
    const { content } = c.req.valid("json");
    const [vector] = await embedder.embed([content]);
    const item = await store.addText(
      c.get("principal").userId,
      content,
      { vector: vector!, model: embedder.model },
      MAX_TEXT_MEMORIES_PER_USER,
    );
    if (!item) throw new ApiError("conflict", `You hold the maximum of ${MAX_TEXT_MEMORIES_PER_USER} text memories; delete some first.`);
    return c.json(item, 201);
  },
);

memoryRoutes.openapi(
  createRoute({
    method: "post",
    path: "/search",
    tags: TAG,
    summary: "Search your memory",
    description: "Your `k` items nearest to the query by cosine distance, nearest first. Never another user's.",
    middleware: [readSession, readScope, withRequestMemory] as const,
    request: { body: jsonBody(SearchMemoryBody) },
    responses: { 200: jsonResponse(MemorySearchResult, "Nearest items"), ...errorResponses(400, 401, 403, 503) },
  }),
  async (c) => {
    const { store, embedder } = c.get("memory");
    const { query, k } = c.req.valid("json");
    const [vector] = await embedder.embed([query]);
    const items = await store.search(c.get("principal").userId, { vector: vector!, model: embedder.model }, k);
    return c.json({ items }, 200);
  },
);

memoryRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/{id}",
    tags: TAG,
    summary: "Delete one item",
    description: "Gone from list and search at once. Another user's item answers 404, like no item.",
    middleware: [writeSession, withRequestMemory] as const,
    request: { params: MemoryIdParam },
    responses: { 204: { description: "Deleted" }, ...errorResponses(400, 401, 403, 404, 503) },
  }),
  async (c) => {
    const { store } = c.get("memory");
    const { id } = c.req.valid("param");
    const userId = c.get("principal").userId;
    if (!(await store.delete(userId, id))) throw new ApiError("not_found", "No such memory item.");
    await c.get("audit").record({ type: "memory.deleted", subject: userId, details: { id } });
    return c.body(null, 204);
  },
);

memoryRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/",
    tags: TAG,
    summary: "Delete all your memory",
    description: "Every item, the preferences included.",
    middleware: [writeSession, withRequestMemory] as const,
    responses: { 200: jsonResponse(DeletedMemory, "How many items were deleted"), ...errorResponses(401, 403, 503) },
  }),
  async (c) => {
    const { store } = c.get("memory");
    const userId = c.get("principal").userId;
    const deleted = await store.deleteAll(userId);
    await c.get("audit").record({ type: "memory.cleared", subject: userId, details: { deleted } });
    return c.json({ deleted }, 200);
  },
);
