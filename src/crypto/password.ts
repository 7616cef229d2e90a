import { isWellFormedText } from "../account-security/password-policy";
import { constantTimeEqual } from "./digest";
import { fromBase64Url, toBase64Url, utf8 } from "./encoding";
import { randomBytes } from "./random";

/**
 * Password hashing that is safe to run on Cloudflare's production runtime.
 *
 * Production Workers refuse a single PBKDF2 call above 100,000 iterations (local workerd does
 * not), so the OWASP figure for PBKDF2-HMAC-SHA256 (600,000 iterations) is reached by chaining
 * `rounds` calls of `iterations` each: round k salts with `salt || output(k-1)`, so an attacker
 * must pay every round in sequence, and the total work is `iterations × rounds`.
 *
 * Stored as a PHC string: `$pbkdf2-sha256$i=100000,r=6$<salt>$<hash>` (base64url, unpadded).
 */
export interface PasswordHashParams {
  iterations: number;
  rounds: number;
}

/** What new hashes use, and what older hashes are raised to on the next successful login. */
export const CURRENT_PASSWORD_PARAMS: PasswordHashParams = { iterations: 100_000, rounds: 6 };

/** The per-call ceiling that production Workers enforce for PBKDF2. */
export const PBKDF2_MAX_ITERATIONS_PER_CALL = 100_000;

const ALGORITHM_ID = "pbkdf2-sha256";
const SALT_BYTES = 16;
const HASH_BYTES = 32;

async function derive(password: string, salt: Uint8Array, params: PasswordHashParams): Promise<Uint8Array> {
  // UTF-8 would map every lone surrogate to U+FFFD, so distinct ill-formed passwords would collide.
  if (!isWellFormedText(password)) throw new RangeError("password is not well-formed Unicode text");
  if (params.iterations > PBKDF2_MAX_ITERATIONS_PER_CALL) {
    throw new RangeError(`PBKDF2 iterations per call may not exceed ${PBKDF2_MAX_ITERATIONS_PER_CALL}`);
  }
  const key = await crypto.subtle.importKey("raw", utf8(password.normalize("NFKC")), "PBKDF2", false, ["deriveBits"]);
  let output = new Uint8Array(0);
  for (let round = 0; round < params.rounds; round++) {
    const roundSalt = new Uint8Array(salt.length + output.length);
    roundSalt.set(salt);
    roundSalt.set(output, salt.length);
    const bits = await crypto.subtle.deriveBits(
      { name: "PBKDF2", hash: "SHA-256", salt: roundSalt, iterations: params.iterations },
      key,
      HASH_BYTES * 8,
    );
    output = new Uint8Array(bits);
  }
  return output;
}

/** Hashes a password into a self-describing PHC string. */
export async function hashPassword(password: string, params: PasswordHashParams = CURRENT_PASSWORD_PARAMS): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, params);
  return `$${ALGORITHM_ID}$i=${params.iterations},r=${params.rounds}$${toBase64Url(salt)}$${toBase64Url(hash)}`;
}

interface ParsedHash {
  params: PasswordHashParams;
  salt: Uint8Array;
  hash: Uint8Array;
}

function parsePhc(phc: string): ParsedHash | null {
  const match = /^\$pbkdf2-sha256\$i=(\d+),r=(\d+)\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/.exec(phc);
  if (!match) return null;
  const params = { iterations: Number(match[1]), rounds: Number(match[2]) };
  if (params.iterations < 1 || params.iterations > PBKDF2_MAX_ITERATIONS_PER_CALL || params.rounds < 1 || params.rounds > 64) {
    return null;
  }
  try {
    return { params, salt: fromBase64Url(match[3]!), hash: fromBase64Url(match[4]!) };
  } catch {
    return null; // a corrupted stored hash verifies nothing rather than failing the login
  }
}

export interface PasswordCheck {
  valid: boolean;
  /** True when the stored parameters are not the current ones; rehash after a valid login. */
  needsRehash: boolean;
}

/** Checks a password against a stored PHC string in constant time. */
export async function verifyPassword(password: string, phc: string): Promise<PasswordCheck> {
  const parsed = parsePhc(phc);
  if (!parsed || !isWellFormedText(password)) return { valid: false, needsRehash: false };
  const candidate = await derive(password, parsed.salt, parsed.params);
  const valid = constantTimeEqual(candidate, parsed.hash);
  const needsRehash =
    parsed.params.iterations !== CURRENT_PASSWORD_PARAMS.iterations || parsed.params.rounds !== CURRENT_PASSWORD_PARAMS.rounds;
  return { valid, needsRehash };
}

/**
 * A hash of a password nobody knows, verified when the email is unknown so that an unknown
 * account and a wrong password cost the same time.
 */
// Shared across requests as a promise: safe, since it waits on WebCrypto only, no I/O (src/platform/single-flight.ts says why I/O differs).
let decoyHash: Promise<string> | undefined;
export function decoyPasswordHash(): Promise<string> {
  decoyHash ??= hashPassword(toBase64Url(randomBytes(24)));
  return decoyHash;
}
