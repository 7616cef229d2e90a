import type { AdmittedNode } from "./socket-state";

/**
 * How the Worker hands an admitted connect to its topic object. The object is reachable only
 * through the `MESH_TOPIC` binding, never from the internet, so the admission it receives in
 * these headers was written by the Worker; none of the client's own headers are forwarded.
 */
const TOPIC_HEADER = "X-Mesh-Topic";
const ADMISSION_HEADER = "X-Mesh-Admission";

/** The upgrade request the Worker sends to the topic object for an admitted node. */
export function handoffRequest(topic: string, admitted: AdmittedNode): Request {
  return new Request("https://mesh-topic.internal/connect", {
    headers: { Upgrade: "websocket", [TOPIC_HEADER]: topic, [ADMISSION_HEADER]: JSON.stringify(admitted) },
  });
}

/** The topic and admission of a handoff request; undefined for anything else. */
export function readHandoff(request: Request): { topic: string; admitted: AdmittedNode } | undefined {
  const topic = request.headers.get(TOPIC_HEADER);
  const admission = request.headers.get(ADMISSION_HEADER);
  if (request.headers.get("Upgrade") !== "websocket" || !topic || !admission) return undefined;
  return { topic, admitted: JSON.parse(admission) as AdmittedNode };
}
