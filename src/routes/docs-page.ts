/** The API reference page: fetches /openapi.json and lists every operation with its schemas. */
export const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>HeadyKey Edge API</title>
<style>
  body { font: 15px/1.5 system-ui, sans-serif; margin: 0 auto; max-width: 960px; padding: 24px; color: #1b1b1f; }
  h1 { margin-bottom: 0; } .sub { color: #555; margin-top: 4px; }
  section { border: 1px solid #ddd; border-radius: 8px; margin: 12px 0; padding: 12px 16px; }
  .method { display: inline-block; min-width: 64px; font-weight: 700; text-transform: uppercase; }
  .get { color: #0a6; } .post { color: #05c; } .delete { color: #c22; } .put, .patch { color: #a60; }
  code, pre { font-family: ui-monospace, monospace; font-size: 13px; } pre { background: #f6f6f8; padding: 8px; overflow-x: auto; }
  details summary { cursor: pointer; color: #444; }
</style>
</head>
<body>
<h1 id="title">HeadyKey Edge API</h1>
<p class="sub">Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1)</p>
<main id="operations">Loading…</main>
<script>
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
</script>
</body>
</html>`;
