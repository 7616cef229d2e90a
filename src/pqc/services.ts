import { z } from "zod";
import { ROLES, type Role } from "../identity/roles";

/**
 * Service contexts are configuration (`PQC_SERVICES` in wrangler.toml), not code: each names the
 * service id and endpoint that go into `heady_ctx`, the operations a PQC token may be issued for
 * with the permissions each grants, the lowest role that may ask, and whether a caller known
 * only by its mTLS client certificate may ask.
 */
const name = z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, "service and operation names are lower-case words");
const permission = z.string().regex(/^[a-z][a-z0-9_.:*-]{0,63}$/, "permissions are lower-case words such as `sync:write`");

const ServiceContext = z.object({
  serviceId: z.string().min(1).max(64),
  endpoint: z.url(),
  minRole: z.enum(ROLES as [Role, ...Role[]]).default("user"),
  allowMtls: z.boolean().default(false),
  operations: z
    .record(name, z.array(permission).min(1))
    .refine((ops) => Object.keys(ops).length > 0, "a service needs at least one operation"),
});

export const PqcServicesSchema = z.record(name, ServiceContext);

export type PqcServices = z.infer<typeof PqcServicesSchema>;
export type PqcService = PqcServices[string];

/**
 * The permissions `operation` grants on `service`, by own key only: a name such as `constructor`
 * (which the name rule admits) must not find `Object.prototype`'s members.
 */
export function operationPermissions(service: PqcService, operation: string): string[] | undefined {
  return Object.hasOwn(service.operations, operation) ? service.operations[operation] : undefined;
}

/** A configured service operation and the permissions it grants, by own keys only; undefined for anything else. */
export function findServiceOperation(
  services: PqcServices,
  serviceName: string,
  operation: string,
): { service: PqcService; permissions: string[] } | undefined {
  const service = Object.hasOwn(services, serviceName) ? services[serviceName] : undefined;
  const permissions = service && operationPermissions(service, operation);
  return service && permissions ? { service, permissions } : undefined;
}
