import { afterEach, describe, expect, it } from "vitest";
import type { PqcPrincipal } from "../../src/credentials/principal";
import { cachedPqcPrincipal, clearPqcCacheForTests, pqcCacheKey, rememberPqcPrincipal } from "../../src/pqc/verified-cache";

const principal = (expiresAt: number, jti = crypto.randomUUID()): PqcPrincipal => ({
  kind: "pqc_token",
  userId: "user-1",
  email: "",
  role: "operator",
  service: "production",
  operation: "clone",
  permissions: ["repo:read"],
  jti,
  kid: "test-kid",
  expiresAt,
  viaReference: false,
});

afterEach(() => {
  clearPqcCacheForTests();
});

describe("the PQC verification cache", () => {
  it("keys on the credential and the connection's certificate together", async () => {
    const keys = new Set([
      await pqcCacheKey("token-a", undefined),
      await pqcCacheKey("token-b", undefined),
      await pqcCacheKey("token-a", "cert-1"),
      await pqcCacheKey("token-a", "cert-2"),
    ]);
    expect(keys.size).toBe(4);
    expect(await pqcCacheKey("token-a", "cert-1")).toBe(await pqcCacheKey("token-a", "cert-1"));
  });

  it("answers until the token's exp and not a second longer", async () => {
    const key = await pqcCacheKey("token", undefined);
    const entry = principal(1_000);
    rememberPqcPrincipal(key, entry);
    expect(cachedPqcPrincipal(key, 999)).toBe(entry);
    expect(cachedPqcPrincipal(key, 1_000)).toBeUndefined();
    // An expired entry is dropped, not kept for later.
    expect(cachedPqcPrincipal(key, 0)).toBeUndefined();
  });

  it("holds at most 1024 entries, dropping the oldest first", async () => {
    const far = Math.floor(Date.now() / 1000) + 300;
    const keys = await Promise.all(Array.from({ length: 1025 }, (_, index) => pqcCacheKey(`token-${index}`, undefined)));
    keys.forEach((key, index) => {
      rememberPqcPrincipal(key, principal(far, `jti-${index}`));
    });
    expect(cachedPqcPrincipal(keys[0]!)).toBeUndefined();
    expect(cachedPqcPrincipal(keys[1]!)?.jti).toBe("jti-1");
    expect(cachedPqcPrincipal(keys[1024]!)?.jti).toBe("jti-1024");
  });
});
