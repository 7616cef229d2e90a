import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/env";
import { configError, PRODUCTION_VARS, withVars } from "../support/config";

const PRODUCTION = PRODUCTION_VARS;

describe("mail configuration", () => {
  it("defaults to the dev outbox in a local run; a deployment names its transport", () => {
    expect(loadConfig(withVars({})).mail).toMatchObject({ transport: "outbox", from: "no-reply@id.heady.test" });
    expect(loadConfig(withVars(PRODUCTION)).mail.transport).toBe("send_email");
  });

  it("refuses the outbox, or no transport, in a deployment", () => {
    expect(configError({ ...PRODUCTION, MAIL_TRANSPORT: "outbox" })).toContain("a deployment needs MAIL_TRANSPORT=send_email or http");
    expect(configError({ ...PRODUCTION, MAIL_TRANSPORT: undefined })).toContain("a deployment needs MAIL_TRANSPORT=send_email or http");
  });

  it("send_email and http need a sender; http needs an https URL and a key", () => {
    expect(configError({ ...PRODUCTION, MAIL_TRANSPORT: "send_email", MAIL_FROM: undefined })).toContain("needs MAIL_FROM");
    expect(loadConfig(withVars({ ...PRODUCTION, MAIL_TRANSPORT: "send_email", MAIL_FROM: "no-reply@heady.systems" })).mail).toMatchObject({
      transport: "send_email",
      from: "no-reply@heady.systems",
    });
    expect(configError({ ...PRODUCTION, MAIL_TRANSPORT: "http", MAIL_FROM: "no-reply@heady.systems" })).toContain(
      "needs MAIL_API_URL and MAIL_API_KEY",
    );
    expect(configError({ MAIL_API_URL: "http://mail.example.com/send" })).toContain("MAIL_API_URL must be an https URL");
    expect(configError({ MAIL_TRANSPORT: "smtp" })).not.toBe("");
  });
});

describe("passkey (WebAuthn) configuration", () => {
  it("defaults the RP to PUBLIC_URL's host and origin", () => {
    expect(loadConfig(withVars({})).webauthn).toEqual({ rpId: "id.heady.test", rpName: "HeadyKey", origins: ["https://id.heady.test"] });
  });

  it("takes a parent domain as RP ID and several origins under it", () => {
    const webauthn = loadConfig(
      withVars({ WEBAUTHN_RP_ID: "heady.test", WEBAUTHN_ORIGINS: "https://id.heady.test,https://app.heady.test" }),
    ).webauthn;
    expect(webauthn).toMatchObject({ rpId: "heady.test", origins: ["https://id.heady.test", "https://app.heady.test"] });
  });

  it("refuses an origin the RP ID does not cover, and an RP ID with a scheme", () => {
    expect(configError({ WEBAUTHN_ORIGINS: "https://evil.example" })).toContain("is not on WEBAUTHN_RP_ID id.heady.test");
    expect(configError({ WEBAUTHN_RP_ID: "https://heady.test" })).toContain("WEBAUTHN_RP_ID must be a host name");
  });
});
