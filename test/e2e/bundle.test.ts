import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { OUT_DIR } from "../../scripts/build/build-worker.ts";

/**
 * The bundle wrangler dev is serving to these tests (built by scripts/build/build-worker.ts when the global
 * setup started it): minified, with zod's English messages and no other locale, and a source map.
 */
describe("the Worker bundle", () => {
  const bundle = readFileSync(`${OUT_DIR}/worker.js`, "utf8");

  it("keeps zod's English messages and leaves every other locale out", () => {
    expect(bundle).toContain("Too small");
    expect(bundle).not.toContain("Zu klein"); // de
    expect(bundle).not.toContain("Trop petit"); // fr
  });

  // Budgets (issue 12): 160 KiB for the first round's features (measured 154.5 KiB), 250 KiB with this
  // round's. Measured: provider sign-in took it to 181.2 KiB, metrics and the keyring +3.5 KiB, and
  // passkeys (@simplewebauthn/server, with its X.509 and ASN.1 stack) +86.5 KiB: 250 is missed, see
  // BENCHMARKS.md. This guards against further growth until that is brought back under 250. User memory's
  // Postgres driver (postgres.js, the smaller of the two Hyperdrive documents: 15.5 KiB gzip against pg's
  // 27.1) took it from 283.3 to 304.9 KiB, and the hosted pages (Hono JSX, src/pages) plus key rotation to
  // 323.0 KiB, so the guard was 330 (BENCHMARKS.md, "Bundle and startup"). The page scripts as modules
  // (issue 23) left it at 328.6; the OAuth/OIDC provider (issue 24: src/oauth, ES256 and JWK import in
  // src/crypto, the consent page) took it to 342.7 KiB, so the guard is 350. Workers allow 3 MiB (free) and
  // 10 MiB (paid) compressed; the guard is ours, against unnoticed growth.
  it("is minified, links its source map, and stays inside 350 KiB gzip (the 250 KiB target is missed by passkeys)", () => {
    expect(bundle).not.toContain("/**"); // no TSDoc survives minification
    expect(bundle).toMatch(/\/\/# sourceMappingURL=worker\.js\.map\s*$/);
    const map = JSON.parse(readFileSync(`${OUT_DIR}/worker.js.map`, "utf8")) as { sources: string[] };
    expect(map.sources.some((source) => source.endsWith("src/app.ts"))).toBe(true);
    expect(gzipSync(bundle).length / 1024).toBeLessThan(350);
  });
});
