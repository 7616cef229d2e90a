import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { ledgerObject } from "../audit/ledger";
import { AuditEventList, EventIdParam, LedgerVerificationSchema, ListAuditEventsQuery, Receipt } from "../audit/schemas";
import { type ExportedEvent, findEvent, listEvents } from "../audit/store";
import { verifyLedger } from "../audit/verify-ledger";
import type { AppEnv } from "../context";
import { ROUTE_CREDENTIALS } from "../credentials/route-credentials";
import { ApiError } from "../errors";
import { roleAtLeast } from "../identity/roles";
import { authenticate } from "../middleware/authenticate";
import { requireRole } from "../middleware/require-role";
import { validationHook } from "../middleware/validation";
import { errorResponses, jsonResponse } from "../schemas/common";

export const auditRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

const TAG = ["Audit"];

function view(event: ExportedEvent) {
  const { receipt, createdAt, ...rest } = event;
  return { ...rest, createdAt: new Date(createdAt).toISOString(), hasReceipt: receipt !== null };
}

auditRoutes.openapi(
  createRoute({
    method: "get",
    path: "/events",
    tags: TAG,
    summary: "Audit events, newest first (admin)",
    description: "Filter by subject, type and time; page with `cursor`. The ledger is flushed to D1 first, so the list is current.",
    middleware: [requireRole("admin", ROUTE_CREDENTIALS.audit)] as const,
    request: { query: ListAuditEventsQuery },
    responses: { 200: jsonResponse(AuditEventList, "One page of events"), ...errorResponses(400, 401, 403) },
  }),
  async (c) => {
    const query = c.req.valid("query");
    await ledgerObject(c.env).flush();
    const rows = await listEvents(c.get("db"), {
      subject: query.subject,
      type: query.type,
      from: query.from,
      to: query.to,
      beforeSeq: query.cursor === undefined ? undefined : Number(query.cursor),
      limit: query.limit + 1,
    });
    const more = rows.length > query.limit;
    const events = more ? rows.slice(0, query.limit) : rows;
    return c.json({ events: events.map(view), nextCursor: more ? String(events[events.length - 1]!.seq) : null }, 200);
  },
);

auditRoutes.openapi(
  createRoute({
    method: "get",
    path: "/verify",
    tags: TAG,
    summary: "Walk the hash chain and report the first break (admin)",
    middleware: [requireRole("admin", ROUTE_CREDENTIALS.audit)] as const,
    responses: { 200: jsonResponse(LedgerVerificationSchema, "The verification result"), ...errorResponses(401, 403) },
  }),
  async (c) => c.json(await verifyLedger(c.env, c.get("db")), 200),
);

auditRoutes.openapi(
  createRoute({
    method: "get",
    path: "/receipts/{id}",
    tags: TAG,
    summary: "An event's trust receipt, again",
    description: "For the event's subject or actor, or an admin. Anyone else gets 404, as for an event without a receipt.",
    middleware: [authenticate(ROUTE_CREDENTIALS.audit)] as const,
    request: { params: EventIdParam },
    responses: { 200: jsonResponse(Receipt, "The receipt"), ...errorResponses(400, 401, 403, 404) },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const principal = c.get("principal");
    await ledgerObject(c.env).flush();
    const event = await findEvent(c.get("db"), id);
    const entitled =
      event && (roleAtLeast(principal.role, "admin") || event.subject === principal.userId || event.actor === principal.userId);
    if (!event || !entitled || event.receipt === null) throw new ApiError("not_found", "No receipt for that event.");
    return c.json({ id: event.id, type: event.type, receipt: event.receipt }, 200);
  },
);
