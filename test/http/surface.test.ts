import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app";

/**
 * The Worker's public surface, pinned: every route the app registers (method and path) and the
 * OpenAPI document it serves. A restructuring must leave both byte-for-byte the same; a change to
 * the surface updates these files on purpose (`npx vitest run test/http/surface.test.ts -u`),
 * and the diff shows in review.
 */
describe("the public surface", () => {
  it("registers the same routes, in the same order", async () => {
    const routes = createApp().routes.map((route) => `${route.method} ${route.path}`);
    await expect(`${routes.join("\n")}\n`).toMatchFileSnapshot("./__snapshots__/routes.txt");
  });

  it("serves the same OpenAPI document", async () => {
    const response = await exports.default.fetch(new Request("https://id.heady.test/openapi.json"));
    expect(response.status).toBe(200);
    await expect(`${JSON.stringify(await response.json(), null, 2)}\n`).toMatchFileSnapshot("./__snapshots__/openapi.json");
  });
});
