/**
 * The API reference (src/pages/docs.tsx): fetches /openapi.json and lists every operation with its
 * schemas. No CDN, no third-party script.
 */
import { byId, el } from "./shared/dom";

/** The parts of an OpenAPI 3.1 document this page reads. */
interface Schema {
  $ref?: string;
}
interface Content {
  "application/json"?: { schema?: Schema };
}
interface Operation {
  summary?: string;
  description?: string;
  requestBody?: { content?: Content };
  responses?: Record<string, { description: string; content?: Content }>;
}
interface OpenApiDocument {
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

(async () => {
  const main = byId("operations");
  const doc: OpenApiDocument = await (await fetch("/openapi.json")).json();
  byId("title").textContent = `${doc.info.title} ${doc.info.version}`;
  main.textContent = "";
  const resolve = (schema: Schema | undefined) => (schema?.$ref ? doc.components.schemas[schema.$ref.split("/").pop()!] : schema);
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(operations)) {
      const section = el("section", { className: "operation" });
      const head = el("div");
      head.append(
        el("span", { className: `method ${method}`, textContent: method }),
        el("code", { textContent: path }),
        ` — ${op.summary || ""}`,
      );
      section.append(head);
      if (op.description) section.append(el("p", { textContent: op.description }));
      const body = op.requestBody?.content?.["application/json"];
      const blocks: [string, Schema | undefined | null][] = [];
      if (body) blocks.push(["Request body", resolve(body.schema)]);
      for (const [status, response] of Object.entries(op.responses || {})) {
        const content = response.content?.["application/json"];
        blocks.push([`${status} ${response.description}`, content ? resolve(content.schema) : null]);
      }
      for (const [label, schema] of blocks) {
        const details = el("details");
        details.append(el("summary", { textContent: label }));
        if (schema) details.append(el("pre", { textContent: JSON.stringify(schema, null, 2) }));
        section.append(details);
      }
      main.append(section);
    }
  }
})().catch((error) => {
  byId("operations").textContent = `Could not load the API description: ${error}`;
});
