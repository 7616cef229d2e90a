import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../../context";
import { ApiError } from "../../errors";
import { presentedPqcCredential, verifyPqcCredential } from "../../pqc/credential";

const NAME = /^[a-z][a-z0-9-]{0,31}$/;

/**
 * Protects a route with a PQC token (or reference) for exactly `service`/`operation`.
 * No PQC credential: 401 `pqc_required`; an invalid one: 401 `invalid_token`; a valid one for
 * another service or operation: 403 `pqc_scope_mismatch`. Each names what was required.
 */
export function requirePQC(service: string, operation: string) {
  if (!NAME.test(service) || !NAME.test(operation)) {
    throw new TypeError(`requirePQC: service and operation must be lower-case names, got ${service}/${operation}`);
  }
  const required = `${service}/${operation}`;
  return createMiddleware<AppEnv>(async function requirePQC(c, next) {
    const presented = presentedPqcCredential(c);
    if (presented === undefined) {
      throw new ApiError("pqc_required", `This route requires a PQC token for ${required}.`, {
        "WWW-Authenticate": `Bearer realm="heady", scope="pqc:${required}"`,
      });
    }
    const principal = await verifyPqcCredential(c, presented);
    if (principal.service !== service || principal.operation !== operation) {
      throw new ApiError(
        "pqc_scope_mismatch",
        `This route requires a PQC token for ${required}; the token is for ${principal.service}/${principal.operation}.`,
        { "WWW-Authenticate": `Bearer error="insufficient_scope", scope="pqc:${required}"` },
      );
    }
    c.set("principal", principal);
    await next();
  });
}
