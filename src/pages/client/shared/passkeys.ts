/**
 * The browser's half of a WebAuthn ceremony: the options the API started it with in, the
 * authenticator's response, in the JSON form the API verifies, out. Both reject when the person
 * cancels or no authenticator answers.
 */
import type { WebauthnOptions } from "../../../account-security/schemas";
import type { JsonOf } from "./request";

/** The API's options: WebAuthn's JSON form, as @simplewebauthn/server makes them (the schema says only "an object"). */
type CeremonyOptions = JsonOf<typeof WebauthnOptions>["options"];

/** Signs the API's challenge with a passkey (sign-in, the second factor, confirming it's you). */
export async function signWithPasskey(options: CeremonyOptions): Promise<AuthenticationResponseJSON> {
  const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(options as unknown as PublicKeyCredentialRequestOptionsJSON);
  return publicKeyCredential(await navigator.credentials.get({ publicKey })).toJSON() as AuthenticationResponseJSON;
}

/** Makes a new passkey for the API's options. */
export async function createPasskey(options: CeremonyOptions): Promise<RegistrationResponseJSON> {
  const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(options as unknown as PublicKeyCredentialCreationOptionsJSON);
  return publicKeyCredential(await navigator.credentials.create({ publicKey })).toJSON() as RegistrationResponseJSON;
}

function publicKeyCredential(credential: Credential | null): PublicKeyCredential {
  if (!(credential instanceof PublicKeyCredential)) throw new Error("no passkey answered");
  return credential;
}
