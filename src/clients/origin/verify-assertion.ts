import { ed25519VerificationKey } from "../../crypto/ed25519";
import { THUMBPRINT_KID, TokenError, type VerificationKey, verifyJwt } from "../../crypto/jwt";
import {
  ASSERTION_HEADER,
  ASSERTION_JWK_MARKER,
  ASSERTION_LIFETIME_SECONDS,
  ASSERTION_TYP,
  type AssertionClaims,
} from "../../gateway/assertion-claims";
import { SingleFlight } from "../../platform/single-flight";

/**
 * For origin services behind the HeadyKey gateway: verifies the `X-Heady-Assertion` the gateway
 * adds to every request it forwards, using nothing but the gateway's published JWKS. WebCrypto
 * only (Ed25519), so it runs in Node 20+ and in Workers alike.
 *
 * @example
 * ```ts
 * import { createAssertionVerifier } from "headykey-edge/origin";
 * const gateway = createAssertionVerifier({ jwksUrl: "https://id.heady.systems/.well-known/jwks.json", issuer: "https://id.heady.systems", audience: "https://repos.heady.systems" });
 * const caller = await gateway.verify(request); // throws AssertionError: answer 401
 * ```
 */

export type { AssertionClaims };
export { ASSERTION_HEADER };

export interface AssertionVerifierOptions {
  /** The gateway's JWKS, e.g. `https://id.heady.systems/.well-known/jwks.json`. */
  jwksUrl: string;
  /** The gateway's issuer (its `ISSUER`). */
  issuer: string;
  /** This origin exactly as the gateway's route names it, e.g. `https://repos.heady.systems`. */
  audience: string;
  /** Accept each assertion once per verifier (default true), so a copied header cannot be replayed within its 60 s. */
  rejectReplays?: boolean;
  /** How long fetched keys are trusted before the JWKS is read again (default 5 minutes, the JWKS's max-age). */
  jwksMaxAgeMs?: number;
}

/** A request as Fetch (`Request`, in Workers) or Node's `http` (`IncomingMessage`) presents it. */
export interface OriginRequest {
  method?: string | undefined;
  /** A full URL, or (Node) just the path and query. */
  url?: string | undefined;
  headers: Headers | Record<string, string | string[] | undefined>;
}

/** Why an assertion was refused (`missing`, `bad_signature`, `expired`, `wrong_path`, `replayed`, ...); answer 401. */
export class AssertionError extends Error {
  override name = "AssertionError";
  constructor(readonly reason: string) {
    super(`X-Heady-Assertion refused: ${reason}`);
  }
}

/** The JWKS could not be read, so nothing can be verified; answer 503, not 401. */
export class AssertionKeysUnavailableError extends Error {
  override name = "AssertionKeysUnavailableError";
}

export interface AssertionVerifier {
  /** The verified claims: who the caller is (`sub`, `role`, `cred`) and what the gateway checked (`req`). */
  verify(request: OriginRequest): Promise<AssertionClaims>;
}

/** An unknown `kid` re-reads the JWKS (a key rotation), but at most this often, so junk `kid`s cannot hammer the gateway. */
const UNKNOWN_KID_COOLDOWN_MS = 30_000;
const DEFAULT_JWKS_MAX_AGE_MS = 5 * 60_000;
/** A JWKS read that takes longer fails, so that a stuck gateway cannot hold verification. */
const JWKS_READ_TIMEOUT_MS = 10_000;

function headerValue(headers: OriginRequest["headers"], name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const value = headers[name.toLowerCase()];
  // Two assertion headers are one too many; refuse rather than pick.
  return typeof value === "string" ? value : Array.isArray(value) ? "" : undefined;
}

async function assertionKeysFrom(jwksUrl: string): Promise<Map<string, VerificationKey>> {
  let jwks: { keys?: unknown };
  try {
    const response = await fetch(jwksUrl, { headers: { Accept: "application/json" }, signal: AbortSignal.timeout(JWKS_READ_TIMEOUT_MS) });
    if (!response.ok) throw new Error(`status ${response.status}`);
    jwks = (await response.json()) as { keys?: unknown };
  } catch (error) {
    throw new AssertionKeysUnavailableError(`the gateway's JWKS could not be read (${String(error)})`);
  }
  const keys = new Map<string, VerificationKey>();
  for (const jwk of Array.isArray(jwks.keys) ? jwks.keys : []) {
    // Only the key marked for assertions: the receipt key is Ed25519 too, and must not vouch for callers.
    if (jwk?.kty !== "OKP" || jwk.crv !== "Ed25519" || jwk.token_typ !== ASSERTION_JWK_MARKER.token_typ) continue;
    if (typeof jwk.kid !== "string" || typeof jwk.x !== "string" || (jwk.alg !== undefined && jwk.alg !== "EdDSA")) continue;
    keys.set(jwk.kid, await ed25519VerificationKey(jwk.kid, jwk.x));
  }
  return keys;
}

/** Builds a verifier for one origin. Throws at once on options that could never verify anything. */
export function createAssertionVerifier(options: AssertionVerifierOptions): AssertionVerifier {
  const audience = new URL(options.audience).origin;
  if (audience !== options.audience) {
    throw new TypeError(
      `createAssertionVerifier: audience must be a bare origin such as https://repos.example.com, got ${options.audience}`,
    );
  }
  const jwksUrl = new URL(options.jwksUrl).href;
  if (!options.issuer) throw new TypeError("createAssertionVerifier: issuer is required");
  const rejectReplays = options.rejectReplays ?? true;
  const maxAgeMs = options.jwksMaxAgeMs ?? DEFAULT_JWKS_MAX_AGE_MS;

  // The keys as a value, and their read shared by its outcome, never by its promise: in a Worker a
  // fetch's promise belongs to the request that started it, and another request awaiting it fails
  // with "Promise will never complete." once that one is cancelled (src/platform/single-flight.ts).
  let keys: Map<string, VerificationKey> | undefined;
  let fetchedAt = 0;
  const reading = new SingleFlight<Map<string, VerificationKey>>(JWKS_READ_TIMEOUT_MS + 1000);
  const refresh = () =>
    reading.run(async () => {
      fetchedAt = Date.now();
      try {
        keys = await assertionKeysFrom(jwksUrl);
        return keys;
      } catch (error) {
        keys = undefined; // a failed read is not remembered: the next request tries again
        throw error;
      }
    });
  const keyFor = async (kid: string) => {
    let known = !keys || reading.busy() || Date.now() - fetchedAt > maxAgeMs ? await refresh() : keys;
    if (!known.has(kid) && Date.now() - fetchedAt > UNKNOWN_KID_COOLDOWN_MS) known = await refresh();
    return known.get(kid);
  };

  /** jti → exp of the assertions already accepted, oldest first (they all live 60 s). */
  const accepted = new Map<string, number>();
  const forgetExpired = (now: number) => {
    for (const [jti, exp] of accepted) {
      if (exp > now) break;
      accepted.delete(jti);
    }
  };

  return {
    async verify(request) {
      const token = headerValue(request.headers, ASSERTION_HEADER);
      if (token === undefined) throw new AssertionError("missing");
      let claims;
      try {
        claims = await verifyJwt(token, {
          typ: ASSERTION_TYP,
          issuer: options.issuer,
          audience,
          // A junk `kid` is refused here, before it could make keyFor re-read the JWKS.
          kidPattern: THUMBPRINT_KID,
          key: keyFor,
          requiredClaims: ["cred", "req", "htm", "htu", "jti"],
          maxLifetimeSeconds: ASSERTION_LIFETIME_SECONDS,
        });
      } catch (error) {
        if (error instanceof TokenError) throw new AssertionError(error.reason);
        throw error;
      }
      // Bound to this request: the same method, and this origin plus this path.
      if (claims.htm !== (request.method ?? "GET").toUpperCase()) throw new AssertionError("wrong_method");
      if (claims.htu !== `${audience}${new URL(request.url ?? "/", audience).pathname}`) throw new AssertionError("wrong_path");
      if (rejectReplays) {
        const now = Math.floor(Date.now() / 1000);
        forgetExpired(now);
        if (typeof claims.jti !== "string" || accepted.has(claims.jti)) throw new AssertionError("replayed");
        accepted.set(claims.jti, claims.exp);
      }
      return claims as unknown as AssertionClaims;
    },
  };
}
