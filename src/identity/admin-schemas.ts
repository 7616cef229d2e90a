import { z } from "@hono/zod-openapi";
import { ROLES } from "./roles";
import { User } from "./schemas";

export const AdminUser = User.extend({ disabledAt: z.string().nullable() }).openapi("AdminUser");

export const UserList = z.object({ users: z.array(AdminUser), nextCursor: z.string().nullable() }).openapi("UserList");

export const ListUsersQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().max(200).optional().openapi({ description: "Opaque cursor from the previous page" }),
});

export const UserIdParam = z.object({
  id: z
    .string()
    .uuid()
    .openapi({ param: { name: "id", in: "path" } }),
});

export const ChangeRoleBody = z.object({ role: z.enum(ROLES as [string, ...string[]]) }).openapi("ChangeRoleBody");
