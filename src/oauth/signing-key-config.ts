import { z } from "zod";
import { SIGNING_ALGORITHMS } from "./client-schemas";

/**
 * Where a signing key is in its rotation (docs/oauth.md): `next` is published but signs nothing yet,
 * so verifiers have it cached before its first token; `active` signs; `retiring` no longer signs and
 * stays published until every token it signed has expired.
 */
export const SIGNING_KEY_STATUSES = ["next", "active", "retiring"] as const;

const SigningKeyEntry = z.object({
  alg: z.enum(SIGNING_ALGORITHMS),
  privateKey: z.string().regex(/^[A-Za-z0-9_-]+$/, "privateKey must be PKCS#8 DER, base64url-encoded"),
  status: z.enum(SIGNING_KEY_STATUSES),
});

export type SigningKeyEntry = z.infer<typeof SigningKeyEntry>;

/**
 * `OIDC_SIGNING_KEYS`: a JSON array of `{alg, privateKey, status}`. At most one active key per
 * algorithm (which one signs must never be a guess), and an active RS256 key, which OIDC Core makes
 * every client's default. That each key parses as its algorithm is checked when it is first imported.
 */
export const SigningKeysSchema = z
  .array(SigningKeyEntry)
  .min(1)
  .max(20)
  .superRefine((entries, ctx) => {
    for (const alg of SIGNING_ALGORITHMS) {
      const active = entries.filter((entry) => entry.alg === alg && entry.status === "active").length;
      if (active > 1) ctx.addIssue({ code: "custom", message: `OIDC_SIGNING_KEYS has ${active} active ${alg} keys; at most one may sign` });
    }
    if (!entries.some((entry) => entry.alg === "RS256" && entry.status === "active")) {
      ctx.addIssue({ code: "custom", message: "OIDC_SIGNING_KEYS needs an active RS256 key (OIDC Core's default algorithm)" });
    }
  });
