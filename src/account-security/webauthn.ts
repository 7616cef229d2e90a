import {
  type AuthenticationResponseJSON,
  type AuthenticatorTransport,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from "@simplewebauthn/server";
import { fromBase64Url, utf8 } from "../crypto/encoding";
import type { PasskeyRow } from "../db/schema";
import type { Config } from "../env";
import { WEBAUTHN_CHALLENGE_TTL_MS } from "./passkey-store";

/**
 * WebAuthn through @simplewebauthn/server, with the relying party from config (WEBAUTHN_RP_ID,
 * WEBAUTHN_ORIGINS). User verification is required for a passkey as the first factor (it then stands
 * for something the user has and something they are or know) and preferred as a second factor.
 */
export function registrationOptions(config: Config, user: { id: string; email: string }, existing: PasskeyRow[]) {
  return generateRegistrationOptions({
    rpName: config.webauthn.rpName,
    rpID: config.webauthn.rpId,
    userID: utf8(user.id),
    userName: user.email,
    timeout: WEBAUTHN_CHALLENGE_TTL_MS,
    attestationType: "none",
    excludeCredentials: existing.map((passkey) => ({ id: passkey.id, transports: passkey.transports as AuthenticatorTransport[] })),
    // A discoverable credential with user verification, so that it can sign in on its own.
    authenticatorSelection: { residentKey: "required", userVerification: "required" },
  });
}

/** Verifies a registration against its challenge; the credential to store, or undefined when it fails. */
export async function verifyRegistration(config: Config, response: RegistrationResponseJSON, expectedChallenge: string) {
  try {
    const result = await verifyRegistrationResponse({
      response,
      expectedChallenge,
      expectedOrigin: config.webauthn.origins,
      expectedRPID: config.webauthn.rpId,
      requireUserVerification: true,
    });
    return result.verified ? result.registrationInfo : undefined;
  } catch {
    // The library throws for every malformed or mismatched response; all of them are the client's fault.
    return undefined;
  }
}

/** Options for an assertion: any discoverable passkey (first factor) or one of `allowed` (second factor). */
export function authenticationOptions(config: Config, allowed?: PasskeyRow[]) {
  return generateAuthenticationOptions({
    rpID: config.webauthn.rpId,
    timeout: WEBAUTHN_CHALLENGE_TTL_MS,
    userVerification: allowed ? "preferred" : "required",
    allowCredentials: allowed?.map((passkey) => ({ id: passkey.id, transports: passkey.transports as AuthenticatorTransport[] })),
  });
}

/**
 * Verifies an assertion by a stored passkey: signature, challenge, origin, RP ID, user presence,
 * user verification when `requireUserVerification`, and a counter above the stored one (when the
 * authenticator counts). The new counter, or undefined when it fails.
 */
export async function verifyAssertion(
  config: Config,
  response: AuthenticationResponseJSON,
  expectedChallenge: string,
  passkey: PasskeyRow,
  requireUserVerification: boolean,
): Promise<number | undefined> {
  try {
    const result = await verifyAuthenticationResponse({
      response,
      expectedChallenge,
      expectedOrigin: config.webauthn.origins,
      expectedRPID: config.webauthn.rpId,
      credential: { id: passkey.id, publicKey: fromBase64Url(passkey.publicKey), counter: passkey.counter, transports: passkey.transports },
      requireUserVerification,
    });
    return result.verified ? result.authenticationInfo.newCounter : undefined;
  } catch {
    return undefined;
  }
}
