import { z } from "zod";
import { utf8 } from "../crypto/encoding";
import { TopicPatternSchema, topicMatches } from "./topics";

/** The node roles (`MESH_ROLE_TOPICS` in docs/configuration.md). A node role is not an account role (`src/identity/roles.ts`). */
export const MESH_ROLES = ["ui", "reasoner", "governor", "scribe", "hermes"] as const;
export type MeshRole = (typeof MESH_ROLES)[number];

/** Whether `value` is one of the five node roles. */
export function isMeshRole(value: unknown): value is MeshRole {
  return typeof value === "string" && (MESH_ROLES as readonly string[]).includes(value);
}

/**
 * What a node may do, as topic patterns:
 * - `allow`: emit to and listen on (the node token's `allowed_topics` claim, docs/mesh.md);
 * - `listen`: listen on only, so an emit there is refused;
 * - `deny`: neither, whatever `allow` and `listen` say (deny always wins).
 */
export interface TopicPermissions {
  allow: string[];
  listen: string[];
  deny: string[];
}

export type TopicAccess = "emit" | "listen" | "none";

/**
 * The permissions travel inside the token and then inside the socket attachment, which holds at
 * most 2 KiB; this bound (on their JSON) leaves room for the rest of the attachment.
 */
export const PERMISSIONS_MAX_BYTES = 1280;

/** The size of the permissions as they travel in a token and an attachment (JSON, bytes). */
export function permissionsSize(permissions: TopicPermissions): number {
  return utf8(JSON.stringify([permissions.allow, permissions.listen, permissions.deny])).length;
}

const PatternList = z.array(TopicPatternSchema).max(32);

export const TopicPermissionsSchema = z
  .object({ allow: PatternList.default([]), listen: PatternList.default([]), deny: PatternList.default([]) })
  .strict()
  .refine(
    (permissions) => permissionsSize(permissions) <= PERMISSIONS_MAX_BYTES,
    `a role's topic patterns take at most ${PERMISSIONS_MAX_BYTES} bytes`,
  );

/** `MESH_ROLE_TOPICS` in wrangler.toml: the default permissions of every role, all five required. */
export const MeshRoleTopicsSchema = z
  .object(Object.fromEntries(MESH_ROLES.map((role) => [role, TopicPermissionsSchema])) as Record<MeshRole, typeof TopicPermissionsSchema>)
  .strict();

export type MeshRoleTopics = Record<MeshRole, TopicPermissions>;

const union = (a: readonly string[], b: readonly string[] = []) => [...new Set([...a, ...b])];

/**
 * A node's permissions: its role's defaults plus the per-node custom entries. Custom `allow`
 * and `listen` entries add to the defaults; custom `deny` entries narrow them, and win.
 */
export function nodePermissions(defaults: TopicPermissions, custom: Partial<TopicPermissions> = {}): TopicPermissions {
  return {
    allow: union(defaults.allow, custom.allow),
    listen: union(defaults.listen, custom.listen),
    deny: union(defaults.deny, custom.deny),
  };
}

/** What `permissions` let a node do on `topic`: deny first, then emit, then listen. */
export function topicAccess(permissions: TopicPermissions, topic: string): TopicAccess {
  const matches = (pattern: string) => topicMatches(pattern, topic);
  if (permissions.deny.some(matches)) return "none";
  if (permissions.allow.some(matches)) return "emit";
  if (permissions.listen.some(matches)) return "listen";
  return "none";
}
