import { env } from "cloudflare:workers";
import { AwsClient } from "aws4fetch";
import { beforeEach, describe, expect, it } from "vitest";
import { ML_DSA_65, nobleMlDsa65, webCryptoMlDsa65 } from "../../src/crypto/ml-dsa";
import { rawPublicKeyFromSpki } from "../../src/pqc/akp";
import { KMS_RAW_MESSAGE_LIMIT, KmsClient, type KmsSettings, KmsUnavailableError } from "../../src/pqc/kms-client";
import { type KmsTenant, kmsMode, kmsStats, kmsTenant } from "../support/kms";

/**
 * The Worker's KMS client (aws4fetch SigV4 + our retries) against the fake KMS, which recomputes
 * every SigV4 signature with @smithy/signature-v4 and refuses what AWS would refuse, with AWS's
 * own status, `__type` and message.
 */

const REGION = env.AWS_REGION ?? "us-east-1";
const message = new TextEncoder().encode("eyJhbGciOiJNTC1EU0EtNjUiLCJ0eXAiOiJwcWMrand0In0.eyJzdWIiOiJrbXMifQ") as Uint8Array<ArrayBuffer>;

let tenant: KmsTenant;
beforeEach(async () => {
  tenant = await kmsTenant();
});

const client = (overrides: Partial<KmsSettings> = {}) =>
  new KmsClient({
    region: REGION,
    keyId: env.TEST_KMS_KEY_ID,
    accessKeyId: tenant.accessKeyId,
    secretAccessKey: tenant.secretAccessKey,
    endpoint: env.TEST_KMS_ENDPOINT,
    ...overrides,
  });

/** The error a promise rejects with, for assertions on its fields. */
async function rejection(promise: Promise<unknown>): Promise<KmsUnavailableError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(KmsUnavailableError);
  return error as KmsUnavailableError;
}

/** A raw SigV4-signed KMS call, to see the fake's answer exactly as a client would. */
async function rawKmsCall(
  operation: string,
  body: Record<string, unknown>,
  options: { secretAccessKey?: string; accessKeyId?: string; region?: string; service?: string; datetime?: string; tamper?: boolean } = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const aws = new AwsClient({
    accessKeyId: options.accessKeyId ?? tenant.accessKeyId,
    secretAccessKey: options.secretAccessKey ?? tenant.secretAccessKey,
    service: options.service ?? "kms",
    region: options.region ?? REGION,
    retries: 0,
  });
  const signed = await aws.sign(env.TEST_KMS_ENDPOINT, {
    method: "POST",
    headers: { "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": `TrentService.${operation}` },
    body: JSON.stringify(body),
    ...(options.datetime ? { aws: { datetime: options.datetime } } : {}),
  });
  const request = options.tamper ? new Request(signed, { body: JSON.stringify({ ...body, KeyId: `${body.KeyId}-x` }) }) : signed;
  const response = await fetch(request);
  return { status: response.status, body: await response.json(), headers: response.headers };
}

const amzDate = (date: Date) => date.toISOString().replace(/[:-]|\.\d{3}/g, "");

describe("KmsClient against the fake KMS: SigV4 accepted", () => {
  it("GetPublicKey answers a 1974-byte ML-DSA-65 SPKI and Sign a 3309-byte signature that verifies with it", async () => {
    const kms = client();
    const { keyId, spki } = await kms.getPublicKey();
    expect(spki).toHaveLength(1974);
    const publicKey = rawPublicKeyFromSpki(spki);
    const { keyId: signedBy, signature } = await kms.sign(message);
    expect(signedBy).toBe(keyId);
    expect(signature).toHaveLength(ML_DSA_65.signatureBytes);
    for (const impl of [webCryptoMlDsa65, nobleMlDsa65]) {
      const verify = await impl.verifier(publicKey);
      expect(await verify(message, signature as Uint8Array<ArrayBuffer>)).toBe(true);
      expect(
        await verify(new TextEncoder().encode("something else") as Uint8Array<ArrayBuffer>, signature as Uint8Array<ArrayBuffer>),
      ).toBe(false);
    }
    expect(await kmsStats(tenant)).toMatchObject({
      calls: { Sign: 1, GetPublicKey: 1 },
      succeeded: { Sign: 1, GetPublicKey: 1 },
      errors: {},
    });
  });

  it("sends the KMS JSON 1.1 request KMS documents for ML-DSA (RAW, ML_DSA_SHAKE_256) and gets KMS's answer shape", async () => {
    const body = {
      KeyId: env.TEST_KMS_KEY_ID,
      Message: btoa(String.fromCharCode(...message)),
      MessageType: "RAW",
      SigningAlgorithm: "ML_DSA_SHAKE_256",
    };
    const signed = await rawKmsCall("Sign", body);
    expect(signed.status).toBe(200);
    expect(signed.headers.get("Content-Type")).toBe("application/x-amz-json-1.1");
    expect(Object.keys(signed.body).sort()).toEqual(["KeyId", "Signature", "SigningAlgorithm"]);
    expect(signed.body.KeyId).toMatch(/^arn:aws:kms:us-east-1:\d{12}:key\/[0-9a-f-]{36}$/);
    expect(signed.body.SigningAlgorithm).toBe("ML_DSA_SHAKE_256");

    const described = await rawKmsCall("GetPublicKey", { KeyId: signed.body.KeyId });
    expect(described.status).toBe(200);
    expect(described.body).toMatchObject({
      KeyId: signed.body.KeyId,
      KeySpec: "ML_DSA_65",
      KeyUsage: "SIGN_VERIFY",
      SigningAlgorithms: ["ML_DSA_SHAKE_256"],
    });

    // KMS's own Verify agrees with the signature the alias produced.
    const verified = await rawKmsCall("Verify", { ...body, KeyId: signed.body.KeyId, Signature: signed.body.Signature });
    expect(verified.status).toBe(200);
    expect(verified.body.SignatureValid).toBe(true);
  });

  it("addresses the key by alias, key id and ARN alike", async () => {
    const { body } = await rawKmsCall("GetPublicKey", { KeyId: env.TEST_KMS_KEY_ID });
    const keyId = (body.KeyId as string).split("/").pop()!;
    const viaArn = await client({ keyId: body.KeyId }).getPublicKey();
    const viaId = await client({ keyId }).getPublicKey();
    expect(viaArn).toEqual(viaId);
    expect(await client().getPublicKey()).toEqual(viaId);
  });

  it("refuses what KMS refuses for ML-DSA: another signing algorithm, DIGEST, or a RAW message over 4096 bytes", async () => {
    const base = { KeyId: env.TEST_KMS_KEY_ID, Message: btoa("x"), MessageType: "RAW", SigningAlgorithm: "ML_DSA_SHAKE_256" };
    expect((await rawKmsCall("Sign", { ...base, SigningAlgorithm: "ECDSA_SHA_256" })).body.__type).toBe("InvalidKeyUsageException");
    expect((await rawKmsCall("Sign", { ...base, MessageType: "DIGEST" })).body.__type).toBe("ValidationException");
    expect((await rawKmsCall("Sign", { ...base, Message: btoa("x".repeat(4097)) })).body.__type).toBe("ValidationException");
    // The client never sends an oversize RAW message: it refuses before calling.
    await expect(client().sign(new Uint8Array(KMS_RAW_MESSAGE_LIMIT + 1))).rejects.toThrow(RangeError);
    expect((await kmsStats(tenant)).calls.Sign).toBe(3);
  });
});

describe("wrong credentials are refused exactly as AWS refuses them", () => {
  it("a wrong secret: 400 InvalidSignatureException with AWS's message, and the client does not retry", async () => {
    const wrongSecret = `${tenant.secretAccessKey.slice(0, -4)}AAAA`;
    const raw = await rawKmsCall("GetPublicKey", { KeyId: env.TEST_KMS_KEY_ID }, { secretAccessKey: wrongSecret });
    expect(raw.status).toBe(400);
    expect(raw.body).toEqual({
      __type: "InvalidSignatureException",
      message:
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
    });
    expect(raw.headers.get("x-amzn-RequestId")).toMatch(/^[0-9a-f-]{36}$/);

    const error = await rejection(client({ secretAccessKey: wrongSecret }).getPublicKey());
    expect(error.kmsErrorType).toBe("InvalidSignatureException");
    const stats = await kmsStats(tenant);
    expect(stats.errors.InvalidSignatureException).toBe(2); // the raw call and exactly one client attempt
    expect(stats.calls.GetPublicKey).toBe(0); // refused before the operation ran
  });

  it("an unknown access key id: 400 UnrecognizedClientException", async () => {
    const raw = await rawKmsCall("GetPublicKey", { KeyId: env.TEST_KMS_KEY_ID }, { accessKeyId: "AKIAUNKNOWNKEY000000" });
    expect(raw.status).toBe(400);
    expect(raw.body).toEqual({ __type: "UnrecognizedClientException", message: "The security token included in the request is invalid." });
    const error = await rejection(client({ accessKeyId: "AKIAUNKNOWNKEY000000" }).sign(message));
    expect(error.kmsErrorType).toBe("UnrecognizedClientException");
  });

  it("a body changed after signing: InvalidSignatureException", async () => {
    const raw = await rawKmsCall("GetPublicKey", { KeyId: env.TEST_KMS_KEY_ID }, { tamper: true });
    expect(raw.status).toBe(400);
    expect(raw.body.__type).toBe("InvalidSignatureException");
  });

  it("a signature more than 5 minutes old, or from the future: InvalidSignatureException", async () => {
    const old = await rawKmsCall("GetPublicKey", { KeyId: env.TEST_KMS_KEY_ID }, { datetime: amzDate(new Date(Date.now() - 6 * 60_000)) });
    expect(old.status).toBe(400);
    expect(old.body.__type).toBe("InvalidSignatureException");
    expect(old.body.message).toMatch(/^Signature expired: \d{8}T\d{6}Z is now earlier than/);
    const future = await rawKmsCall(
      "GetPublicKey",
      { KeyId: env.TEST_KMS_KEY_ID },
      { datetime: amzDate(new Date(Date.now() + 6 * 60_000)) },
    );
    expect(future.body.message).toMatch(/^Signature not yet current/);
    const recent = await rawKmsCall(
      "GetPublicKey",
      { KeyId: env.TEST_KMS_KEY_ID },
      { datetime: amzDate(new Date(Date.now() - 4 * 60_000)) },
    );
    expect(recent.status).toBe(200);
  });

  it("a credential scoped to another region or service: InvalidSignatureException", async () => {
    const region = await rejection(client({ region: "eu-west-1" }).getPublicKey());
    expect(region.kmsErrorType).toBe("InvalidSignatureException");
    const raw = await rawKmsCall("GetPublicKey", { KeyId: env.TEST_KMS_KEY_ID }, { region: "eu-west-1" });
    expect(raw.body.message).toBe("Credential should be scoped to a valid region.");
    const service = await rawKmsCall("GetPublicKey", { KeyId: env.TEST_KMS_KEY_ID }, { service: "s3" });
    expect(service.status).toBe(400);
    expect(service.body.message).toBe("Credential should be scoped to correct service: 'kms'.");
  });

  it("no Authorization at all: MissingAuthenticationTokenException", async () => {
    const response = await fetch(env.TEST_KMS_ENDPOINT, {
      method: "POST",
      headers: { "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "TrentService.GetPublicKey" },
      body: JSON.stringify({ KeyId: env.TEST_KMS_KEY_ID }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ __type: "MissingAuthenticationTokenException", message: "Missing Authentication Token" });
  });
});

describe("KmsClient retries, backoff and timeouts", () => {
  it("retries throttling with backoff, then fails with KmsUnavailableError (the route's 503)", async () => {
    await kmsMode(tenant, "throttle", { operations: ["Sign"] });
    const started = Date.now();
    const error = await rejection(client({ attempts: 3 }).sign(message));
    const elapsed = Date.now() - started;
    expect(error.kmsErrorType).toBe("ThrottlingException");
    const stats = await kmsStats(tenant);
    expect(stats.calls.Sign).toBe(3);
    expect(stats.errors.ThrottlingException).toBe(3);
    // Backoff before attempts 2 and 3 is 100 ms and 200 ms, each jittered by 0.5–1.5×: at least 150 ms in all.
    expect(elapsed).toBeGreaterThanOrEqual(150);
  });

  it("succeeds when throttling passes before the attempts run out", async () => {
    await kmsMode(tenant, "throttle", { operations: ["Sign"], times: 1 });
    const { signature } = await client({ attempts: 3 }).sign(message);
    expect(signature).toHaveLength(ML_DSA_65.signatureBytes);
    expect((await kmsStats(tenant)).calls.Sign).toBe(2);
  });

  it("retries a KMS 500 (KMSInternalException) and a dropped connection", async () => {
    await kmsMode(tenant, "down", { operations: ["GetPublicKey"] });
    expect((await rejection(client({ attempts: 3 }).getPublicKey())).kmsErrorType).toBe("KMSInternalException");
    expect((await kmsStats(tenant)).calls.GetPublicKey).toBe(3);

    await kmsMode(tenant, "destroy", { operations: ["Sign"] });
    const dropped = await rejection(client({ attempts: 2 }).sign(message));
    expect(dropped.message).toMatch(/^KMS Sign failed/);
    expect((await kmsStats(tenant)).calls.Sign).toBe(2);
  });

  it("does not retry an error that another attempt cannot fix (NotFoundException)", async () => {
    const error = await rejection(client({ keyId: "alias/no-such-key", attempts: 3 }).getPublicKey());
    expect(error.kmsErrorType).toBe("NotFoundException");
    expect((await kmsStats(tenant)).calls.GetPublicKey).toBe(1);
  });

  it("gives up on a call that takes longer than the timeout, per attempt", async () => {
    await kmsMode(tenant, "slow", { operations: ["Sign"], delayMs: 5_000 });
    const started = Date.now();
    const error = await rejection(client({ timeoutMs: 200, attempts: 2 }).sign(message));
    const elapsed = Date.now() - started;
    expect(error.message).toMatch(/^KMS Sign failed: (TimeoutError|AbortError)$/);
    expect((await kmsStats(tenant)).calls.Sign).toBe(2);
    expect(elapsed).toBeGreaterThanOrEqual(400);
    expect(elapsed).toBeLessThan(2_000);
  });
});

describe("KmsClient: a 200 that is not KMS's answer is a KMS failure, never a SyntaxError or a TypeError", () => {
  it.each([
    ["an HTML page (a proxy in front of KMS)", undefined, 2],
    ["JSON null", "null", 2],
    ["a JSON array", "[]", 2],
    // KMS's own JSON, but wrong: another attempt would not help.
    [
      "a Signature that is not base64",
      JSON.stringify({ KeyId: "k", SigningAlgorithm: "ML_DSA_SHAKE_256", Signature: "%%%not base64%%%" }),
      1,
    ],
  ])("Sign answered with %s: KmsUnavailableError (after %s attempts)", async (_, body, attempts) => {
    await kmsMode(tenant, "garbage", { operations: ["Sign"], ...(body === undefined ? {} : { body }) });
    const error = await rejection(client({ attempts: 2 }).sign(message));
    expect(error.message).toMatch(/^KMS Sign answered 200 with /);
    expect((await kmsStats(tenant)).calls.Sign).toBe(attempts);
  });

  it("GetPublicKey answered with an HTML page or a PublicKey that is not base64: KmsUnavailableError", async () => {
    await kmsMode(tenant, "garbage", { operations: ["GetPublicKey"] });
    expect((await rejection(client({ attempts: 1 }).getPublicKey())).message).toMatch(/^KMS GetPublicKey answered 200 with /);
    await kmsMode(tenant, "garbage", {
      operations: ["GetPublicKey"],
      body: JSON.stringify({ KeyId: "k", KeySpec: "ML_DSA_65", PublicKey: "%%%" }),
    });
    expect((await rejection(client({ attempts: 1 }).getPublicKey())).message).toMatch(/^KMS GetPublicKey answered 200 with /);
  });
});
