import { type Ed25519KeyPair, ed25519FromSeed, type OkpJwk } from "../crypto/ed25519";
import { signJwt } from "../crypto/jwt";
import { type Config, ConfigError } from "../env";
import { ASSERTION_JWK_MARKER, ASSERTION_LIFETIME_SECONDS, ASSERTION_TYP, type AssertionClaims } from "./assertion-claims";

/** What the gateway learnt about the caller: the caller-specific part of an assertion. */
export type CallerClaims = Pick<AssertionClaims, "sub" | "role" | "cred" | "scopes" | "service" | "operation" | "permissions" | "cnf">;

/** What was asked of which origin. */
export interface AssertedRequest {
  origin: string;
  method: string;
  /** The raw path forwarded to the origin. */
  path: string;
  requirement: string;
  requestId: string;
}

export type AssertionJwk = OkpJwk & typeof ASSERTION_JWK_MARKER;

// Shared across requests as a promise: safe, since it waits on WebCrypto only, no I/O (src/platform/single-flight.ts says why I/O differs).
const keys = new Map<string, Promise<Ed25519KeyPair>>();

/** The assertion key pair for `ASSERTION_SEED`, derived once per isolate (as the receipt key is). */
function assertionKey(seed: string): Promise<Ed25519KeyPair> {
  let key = keys.get(seed);
  if (!key) {
    key = ed25519FromSeed(seed);
    keys.set(seed, key);
  }
  return key;
}

/** The public key origins verify assertions with, marked for that one use; undefined without a gateway. */
export async function assertionPublicJwk(config: Config): Promise<AssertionJwk | undefined> {
  const seed = config.gateway.assertionSeed;
  return seed ? { ...(await assertionKey(seed)).jwk, ...ASSERTION_JWK_MARKER } : undefined;
}

/** Signs the `X-Heady-Assertion` for one forwarded request: 60 s, bound to the origin, method and path. */
export async function signAssertion(config: Config, request: AssertedRequest, caller: CallerClaims): Promise<string> {
  const seed = config.gateway.assertionSeed;
  if (!seed) throw new ConfigError("the gateway has routes but no ASSERTION_SEED");
  const now = Math.floor(Date.now() / 1000);
  const claims: AssertionClaims = {
    iss: config.issuer,
    aud: request.origin,
    ...caller,
    req: request.requirement,
    htm: request.method,
    htu: `${request.origin}${request.path}`,
    jti: request.requestId,
    iat: now,
    exp: now + ASSERTION_LIFETIME_SECONDS,
  };
  return signJwt({ ...claims }, (await assertionKey(seed)).signing, ASSERTION_TYP);
}
