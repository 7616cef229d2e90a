import { z } from "@hono/zod-openapi";

const Name = z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, "a lower-case service or operation name");

export const RequestPqcTokenBody = z
  .object({
    service: Name.openapi({ example: "headyme" }),
    operation: Name.openapi({ example: "sync" }),
    reference: z.boolean().optional().openapi({ description: "Answer with a 32-byte reference instead of the ~4.9 KB token" }),
  })
  .openapi("RequestPqcTokenBody");

export const PqcTokenIssued = z
  .object({
    pqcToken: z.string().openapi({ description: "Compact JWS, alg ML-DSA-65, typ pqc+jwt" }),
    expiresIn: z.number().int(),
    service: z.string(),
    operation: z.string(),
  })
  .openapi("PqcTokenIssued");

export const PqcReferenceIssued = z
  .object({ reference: z.string().openapi({ description: "43 base64url characters" }), expiresIn: z.number().int() })
  .openapi("PqcReferenceIssued");

export const Jwks = z.object({ keys: z.array(z.record(z.string(), z.unknown())) }).openapi("Jwks");
