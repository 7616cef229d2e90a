import { type Authenticator, authenticatorFor } from "./otp-codes";
import { request } from "./worker";

export { type Authenticator, authenticatorFor, currentStep, fromBase32, hotp } from "./otp-codes";

/** Enrols and confirms TOTP for a signed-in account; returns its authenticator and recovery codes. */
export async function enableTotp(accessToken: string): Promise<{ authenticator: Authenticator; recoveryCodes: string[] }> {
  const enrolled = await request("POST", "/api/auth/mfa/totp/enroll", { token: accessToken });
  if (enrolled.status !== 200) throw new Error(`enroll: ${enrolled.status} ${enrolled.text}`);
  const authenticator = authenticatorFor(enrolled.body.otpauthUri);
  // The step before the current one, so that the current step's code is still fresh for the test.
  const confirmed = await request("POST", "/api/auth/mfa/totp/confirm", {
    token: accessToken,
    body: { code: await authenticator.code(-1) },
  });
  if (confirmed.status !== 200) throw new Error(`confirm: ${confirmed.status} ${confirmed.text}`);
  return { authenticator, recoveryCodes: confirmed.body.recoveryCodes };
}
