import { z } from "@hono/zod-openapi";
import { NODE_TOKEN_MAX_TTL_SECONDS } from "./config";
import { isNodeId, NODE_ID_RULE } from "./node-token";
import { MESH_ROLES } from "./permissions";
import { TopicPatternSchema } from "./topics";

/** The shortest node token one may ask for: long enough to connect, short enough for one-shot jobs. */
export const NODE_TOKEN_MIN_TTL_SECONDS = 5;

const NodeId = z.string().refine(isNodeId, `node_id must be ${NODE_ID_RULE}`).openapi({ example: "mirror" });
const Patterns = z.array(TopicPatternSchema).max(16);

const TopicChanges = z
  .object({
    allow: Patterns.optional().openapi({ description: "Added to the role's emit-and-listen patterns. Operators and admins only." }),
    listen: Patterns.optional().openapi({ description: "Added to the role's listen-only patterns. Operators and admins only." }),
    deny: Patterns.optional().openapi({ description: "Narrows the role's defaults: a denied topic is refused whatever else allows it." }),
  })
  // Strict: a misspelt `deny` must not silently leave a node with more access than intended.
  .strict();

export const IssueNodeTokenBody = z
  .object({
    node_id: NodeId,
    role: z.enum(MESH_ROLES).openapi({ description: "Gives the node its role's default topic permissions (MESH_ROLE_TOPICS)" }),
    topics: z.union([Patterns, TopicChanges]).optional().openapi({
      description:
        "Per-node changes to the role's defaults: the seed's plain array of allowed topics (the same as `{allow: [...]}`), or `{allow, listen, deny}`. `*` is one whole segment, a final `>` the rest.",
    }),
    ttlSeconds: z
      .number()
      .int()
      .min(NODE_TOKEN_MIN_TTL_SECONDS)
      .max(NODE_TOKEN_MAX_TTL_SECONDS)
      .optional()
      .openapi({ description: "At most SAGE_TOKEN_TTL_SECONDS (24 h by default), which is also the default" }),
  })
  .openapi("IssueNodeTokenBody");

/** The `topics` of a token request as `{allow, listen, deny}`: the plain array form is the allow list. */
export function topicChanges(topics: z.infer<typeof IssueNodeTokenBody>["topics"]): z.infer<typeof TopicChanges> | undefined {
  return Array.isArray(topics) ? { allow: topics } : topics;
}

export const NodeTokenIssued = z
  .object({
    token: z.string().openapi({ description: "Compact JWS, typ mesh+jwt, RS256 (or ML-DSA-65 by config)" }),
    expiresIn: z.number().int(),
    jti: z.string().openapi({ description: "The token's id, for `POST /api/sage/revoke {jti}`" }),
  })
  .openapi("NodeTokenIssued");

export const RevokeNodeBody = z
  .union([z.object({ node_id: NodeId }).strict(), z.object({ jti: z.string().min(1).max(64) }).strict()], {
    error: "send exactly one of node_id or jti",
  })
  .openapi("RevokeNodeBody");

export const NodeRevoked = z
  .object({
    revoked: z.enum(["node", "token"]),
    node_id: z.string(),
    jti: z.string().optional(),
    topicsNotified: z.number().int().openapi({ description: "Topic objects told to close the node's sockets" }),
    topicsUnreachable: z.number().int().openapi({ description: "Topic objects that could not be told; retrying the revoke is safe" }),
    socketsClosed: z.number().int(),
  })
  .openapi("NodeRevoked");
