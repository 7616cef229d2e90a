import { Layout } from "./layout";
import { COMMON_SCRIPT } from "./scripts/common";

/** The API reference: fetches /openapi.json and lists every operation with its schemas. No CDN, no third-party script. */
const DOCS_SCRIPT = `"use strict";
(async () => {
  const main = document.getElementById("operations");
  const doc = await (await fetch("/openapi.json")).json();
  document.getElementById("title").textContent = doc.info.title + " " + doc.info.version;
  main.textContent = "";
  const resolve = (schema) => schema && schema.$ref ? doc.components.schemas[schema.$ref.split("/").pop()] : schema;
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(operations)) {
      const section = document.createElement("section");
      section.className = "operation";
      const head = document.createElement("div");
      const verb = document.createElement("span");
      verb.className = "method " + method;
      verb.textContent = method;
      const where = document.createElement("code");
      where.textContent = path;
      head.append(verb, where, " — " + (op.summary || ""));
      section.append(head);
      if (op.description) { const p = document.createElement("p"); p.textContent = op.description; section.append(p); }
      const body = op.requestBody && op.requestBody.content && op.requestBody.content["application/json"];
      const blocks = [];
      if (body) blocks.push(["Request body", resolve(body.schema)]);
      for (const [status, response] of Object.entries(op.responses || {})) {
        const content = response.content && response.content["application/json"];
        blocks.push([status + " " + response.description, content ? resolve(content.schema) : null]);
      }
      for (const [label, schema] of blocks) {
        const details = document.createElement("details");
        const summary = document.createElement("summary");
        summary.textContent = label;
        details.append(summary);
        if (schema) { const pre = document.createElement("pre"); pre.textContent = JSON.stringify(schema, null, 2); details.append(pre); }
        section.append(details);
      }
      main.append(section);
    }
  }
})().catch((error) => { document.getElementById("operations").textContent = "Could not load the API description: " + error; });
`;

export function DocsPage(props: { nonce: string }) {
  return (
    <Layout title="HeadyKey Edge API" titleId="title" nonce={props.nonce} script={COMMON_SCRIPT + DOCS_SCRIPT} wide>
      <p class="hint">
        Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1)
      </p>
      <div id="operations" class="docs">
        Loading…
      </div>
    </Layout>
  );
}
