import { Layout } from "./layout";

/** The API reference, which client/docs.ts renders from /openapi.json. */
export function DocsPage(props: { nonce: string }) {
  return (
    <Layout title="HeadyKey Edge API" titleId="title" nonce={props.nonce} script="docs" wide>
      <p class="hint">
        Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1)
      </p>
      <div id="operations" class="docs">
        Loading…
      </div>
    </Layout>
  );
}
