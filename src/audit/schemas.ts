import { z } from "@hono/zod-openapi";
import { storableText } from "../schemas/text";

export const AuditEvent = z
  .object({
    id: z.string(),
    seq: z.number().int(),
    type: z.string(),
    subject: z.string().nullable(),
    actor: z.string().nullable(),
    requestId: z.string().nullable(),
    ip: z.string().nullable(),
    userAgent: z.string().nullable(),
    details: z.record(z.string(), z.unknown()),
    createdAt: z.string(),
    prevHash: z.string(),
    hash: z.string(),
    hasReceipt: z.boolean(),
  })
  .openapi("AuditEvent");

const Time = z
  .string()
  .refine((value) => !Number.isNaN(Date.parse(value)), "an ISO 8601 time")
  .transform((value) => Date.parse(value));

export const ListAuditEventsQuery = z.object({
  subject: storableText().max(200).optional(),
  type: storableText().max(64).optional(),
  from: Time.optional().openapi({ description: "ISO 8601, inclusive" }),
  to: Time.optional().openapi({ description: "ISO 8601, inclusive" }),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z
    .string()
    .regex(/^\d{1,15}$/, "a cursor from a previous page")
    .optional(),
});

export const AuditEventList = z.object({ events: z.array(AuditEvent), nextCursor: z.string().nullable() }).openapi("AuditEventList");

export const LedgerVerificationSchema = z
  .object({
    valid: z.boolean(),
    head: z.object({ seq: z.number().int(), hash: z.string() }),
    eventsChecked: z.number().int(),
    firstBreak: z
      .object({ seq: z.number().int(), reason: z.enum(["gap", "prev_hash_mismatch", "hash_mismatch"]), detail: z.string() })
      .nullable(),
  })
  .openapi("LedgerVerification");

export const Receipt = z
  .object({ id: z.string(), type: z.string(), receipt: z.string().openapi({ description: "EdDSA compact JWS, typ receipt+jwt" }) })
  .openapi("Receipt");

export const EventIdParam = z.object({
  id: z
    .string()
    .uuid()
    .openapi({ param: { name: "id", in: "path" } }),
});
