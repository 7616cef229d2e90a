/** The four RBAC tiers. A route asks for a minimum level; a higher level always passes. */
export const ROLE_LEVELS = { admin: 4, operator: 3, user: 2, guest: 1 } as const;

export type Role = keyof typeof ROLE_LEVELS;

export const ROLES = Object.keys(ROLE_LEVELS) as Role[];

export function isRole(value: unknown): value is Role {
  return typeof value === "string" && Object.hasOwn(ROLE_LEVELS, value);
}

export function roleAtLeast(role: Role, minimum: Role): boolean {
  return ROLE_LEVELS[role] >= ROLE_LEVELS[minimum];
}

/** The lower of two roles. */
export function lowerRole(a: Role, b: Role): Role {
  return ROLE_LEVELS[a] <= ROLE_LEVELS[b] ? a : b;
}
