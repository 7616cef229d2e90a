import { OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../context";
import { ApiError } from "../errors";
import { admitNode, worthAuditing } from "../mesh/admission";
import { meshAuditEvent } from "../mesh/audit-events";
import { BEARER_SUBPROTOCOL_PREFIX, closeReason, MESH_SUBPROTOCOL } from "../mesh/frames";
import { handoffRequest } from "../mesh/topic-handoff";
import { topicObject } from "../mesh/topic-object";
import { errorResponses } from "../schemas/common";

/**
 * `GET /ws/mesh/{topic}`: a WebSocket into the topic's object. Mounted before the CORS
 * middleware (see `src/app.ts`): a refused browser origin must be told with a 1008 close like
 * every other refusal, and a 403 JSON body never reaches a WebSocket client.
 */
export const meshRoutes = new OpenAPIHono<AppEnv>();

/** The offered subprotocols, in order. */
function offeredSubprotocols(header: string | undefined): string[] {
  return (header ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean);
}

/**
 * Answers a refused connect as a WebSocket that closes at once with 1008 (or 1013) and a short
 * reason: a plain 401 would reach a browser client only as an anonymous failure with code 1006.
 */
function refusedSocket(code: number, reason: string, headers: Record<string, string>): Response {
  const { 0: client, 1: server } = new WebSocketPair();
  server.accept();
  server.close(code, closeReason(reason));
  return new Response(null, { status: 101, webSocket: client, headers });
}

meshRoutes.get("/:topic", async (c) => {
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") {
    throw new ApiError("invalid_request", "This is a WebSocket endpoint; connect with Upgrade: websocket.", { Upgrade: "websocket" });
  }
  const url = new URL(c.req.url);
  const offered = offeredSubprotocols(c.req.header("Sec-WebSocket-Protocol"));
  // Only `pulse.v1` is ever echoed: echoing the bearer entry would put the token in a response header.
  const headers: Record<string, string> = offered.includes(MESH_SUBPROTOCOL) ? { "Sec-WebSocket-Protocol": MESH_SUBPROTOCOL } : {};
  const bearer = offered.find((entry) => entry.startsWith(BEARER_SUBPROTOCOL_PREFIX))?.slice(BEARER_SUBPROTOCOL_PREFIX.length);
  const topic = c.req.param("topic");

  const admission = await admitNode(
    c.get("config"),
    c.get("db"),
    c.env.CACHE,
    {
      topic,
      origin: c.req.header("Origin"),
      ownOrigin: url.origin,
      token: bearer ?? url.searchParams.get("token") ?? undefined,
      stubNodeId: url.searchParams.get("node_id") ?? undefined,
      stubRole: url.searchParams.get("role") ?? undefined,
    },
    { liveSocketsOf: (heldIn, nodeId) => topicObject(c.env, heldIn).liveSockets(nodeId) },
  );
  const audit = c.get("audit");
  if ("refused" in admission) {
    const { refused } = admission;
    if (worthAuditing(refused)) {
      await audit.recordCoalesced(meshAuditEvent(refused.event, { nodeId: refused.nodeId, details: { topic, reason: refused.detail } }));
    }
    return refusedSocket(refused.closeCode, refused.reason, headers);
  }

  const { admitted } = admission;
  // Coalesced too: a node reconnecting in a loop is one event and a count a minute, not one per connect.
  await audit.recordCoalesced(
    meshAuditEvent("token_verified", {
      nodeId: admitted.nodeId,
      details: { topic, jti: admitted.jti, role: admitted.role, stub: admitted.stub },
    }),
  );
  const accepted = await topicObject(c.env, topic).fetch(handoffRequest(topic, admitted));
  if (!accepted.webSocket) throw new Error(`topic object answered ${accepted.status} without a socket`);
  return new Response(null, { status: 101, webSocket: accepted.webSocket, headers });
});

meshRoutes.openAPIRegistry.registerPath({
  method: "get",
  // Relative to where src/app.ts mounts this router (/ws/mesh).
  path: "/{topic}",
  tags: ["PulseMesh"],
  summary: "Join a topic room over a WebSocket",
  description: [
    "Send the node token as the subprotocols `pulse.v1, bearer.<token>` (preferred: query strings end up in logs) or as `?token=`.",
    "The Worker checks Origin (browsers), the topic name, the token, its revocation (in D1) and the topic permission before the topic's object wakes.",
    "Every refusal is a WebSocket closed with 1008 and a short reason. Frames are JSON: send `pulse` (`data`), `subscribe`, `unsubscribe`, `refresh` (`token`);",
    "receive `pulse` (`topic`, `from`, `data`, `ts`), `ack` and `error` (`code`, `message`). The text `ping` is answered `pong`.",
    "With PULSE_AUTH_MODE stub or dual, a node without a token names itself with `?node_id=` (and `?role=`) and appears as `stub:<node_id>`.",
  ].join(" "),
  request: {
    params: z.object({ topic: z.string().openapi({ param: { name: "topic", in: "path" }, example: "mirror.intent" }) }),
    query: z.object({
      token: z.string().optional().openapi({ description: "The node token, if not sent as a subprotocol" }),
      node_id: z.string().optional().openapi({ description: "Stub nodes only (PULSE_AUTH_MODE stub or dual)" }),
      role: z.string().optional().openapi({ description: "Stub nodes only; defaults to ui" }),
    }),
  },
  responses: {
    101: { description: "Switching protocols. A refused connect is also a 101, followed at once by a close with code 1008." },
    ...errorResponses(400),
  },
});
