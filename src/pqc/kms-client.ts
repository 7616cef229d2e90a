import { AwsClient } from "aws4fetch";
import { fromBase64, toBase64 } from "../crypto/encoding";
import { UnavailableError } from "../errors";
import { countMetric, observeMetric } from "../metrics/batch";

/**
 * A minimal AWS KMS JSON-protocol client for ML-DSA-65 keys: SigV4-signed `fetch` (aws4fetch,
 * about 4 KiB) instead of the AWS SDK (about 80 KiB gzip) inside the Worker.
 *
 * KMS facts this relies on (AWS KMS API reference, Sign / GetPublicKey):
 * - `POST https://kms.<region>.amazonaws.com/`, `Content-Type: application/x-amz-json-1.1`,
 *   `X-Amz-Target: TrentService.<Operation>`, SigV4 service name `kms`;
 * - ML_DSA_65 keys sign only with `ML_DSA_SHAKE_256`; `MessageType: RAW` takes up to 4096 bytes
 *   and signs pure ML-DSA with an empty context, exactly what RFC 9964 JWS needs;
 * - GetPublicKey returns the DER SubjectPublicKeyInfo, base64.
 */
export interface KmsSettings {
  region: string;
  keyId: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Overrides `https://kms.<region>.amazonaws.com/` (the local fake KMS in tests). */
  endpoint?: string | undefined;
  /** Per attempt. */
  timeoutMs?: number;
  /** Attempts in all, including the first. */
  attempts?: number;
}

export const KMS_SIGNING_ALGORITHM = "ML_DSA_SHAKE_256";
export const KMS_RAW_MESSAGE_LIMIT = 4096;

/**
 * KMS could not be reached, refused to work, or answered something that is not its answer: the
 * error handler answers 503 `unavailable`, and a token is never signed another way.
 */
export class KmsUnavailableError extends UnavailableError {
  override name = "KmsUnavailableError";
  constructor(
    message: string,
    readonly kmsErrorType?: string,
  ) {
    super("kms", message);
  }
}

/** Error types worth another attempt (AWS's own retry guidance); anything else fails at once. */
const RETRYABLE_TYPES = new Set([
  "ThrottlingException",
  "KMSInternalException",
  "DependencyTimeoutException",
  "LimitExceededException",
  "ServiceUnavailableException",
]);

const BACKOFF_BASE_MS = 100;

/** Error types counted under their own name; anything else (whatever a proxy sends) is `Other`, so the label set stays bounded. */
const KNOWN_ERROR_TYPES = new Set([
  "AccessDeniedException",
  "DisabledException",
  "IncorrectKeyException",
  "InvalidKeyUsageException",
  "InvalidSignatureException",
  "KMSInvalidStateException",
  "NotFoundException",
  "UnrecognizedClientException",
  "ValidationException",
]);

/** One KMS attempt in the metrics: its count and latency, and its error type when it failed. */
function countKmsAttempt(operation: string, started: number, errorType: string | undefined): void {
  countMetric("heady_kms_requests_total", { operation });
  observeMetric("heady_kms_request_duration_seconds", { operation }, (performance.now() - started) / 1000);
  if (errorType) countMetric("heady_kms_errors_total", { operation, type: errorType });
}

export class KmsClient {
  private readonly aws: AwsClient;
  private readonly endpoint: string;

  constructor(private readonly settings: KmsSettings) {
    this.aws = new AwsClient({
      accessKeyId: settings.accessKeyId,
      secretAccessKey: settings.secretAccessKey,
      service: "kms",
      region: settings.region,
      retries: 0, // retries are ours, so that they are bounded and only for retryable errors
    });
    this.endpoint = settings.endpoint ?? `https://kms.${settings.region}.amazonaws.com/`;
  }

  /**
   * Signs `message` (≤ 4096 bytes) with the configured ML-DSA-65 key. `keyId` is the ARN of the
   * key that actually signed, which changes when an alias is moved to a new key.
   */
  async sign(message: Uint8Array): Promise<{ keyId: string; signature: Uint8Array }> {
    if (message.length > KMS_RAW_MESSAGE_LIMIT) throw new RangeError("KMS RAW messages are limited to 4096 bytes");
    const response = await this.call("Sign", {
      KeyId: this.settings.keyId,
      Message: toBase64(message),
      MessageType: "RAW",
      SigningAlgorithm: KMS_SIGNING_ALGORITHM,
    });
    if (
      response.SigningAlgorithm !== KMS_SIGNING_ALGORITHM ||
      typeof response.Signature !== "string" ||
      typeof response.KeyId !== "string"
    ) {
      throw new KmsUnavailableError("KMS Sign answered 200 with an unexpected algorithm or body");
    }
    return { keyId: response.KeyId, signature: decodeBase64Member("Sign", response.Signature) };
  }

  /** The key's ARN and its public key as DER SubjectPublicKeyInfo. */
  async getPublicKey(): Promise<{ keyId: string; spki: Uint8Array }> {
    const response = await this.call("GetPublicKey", { KeyId: this.settings.keyId });
    if (response.KeySpec !== "ML_DSA_65" || typeof response.PublicKey !== "string" || typeof response.KeyId !== "string") {
      throw new KmsUnavailableError(`KMS GetPublicKey answered 200 with key spec ${String(response.KeySpec)}, not an ML_DSA_65 key`);
    }
    return { keyId: response.KeyId, spki: decodeBase64Member("GetPublicKey", response.PublicKey) };
  }

  /** One KMS operation with bounded retries; its answer as a JSON object, whose members the caller checks. */
  private async call(operation: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const attempts = this.settings.attempts ?? 3;
    let lastError: KmsUnavailableError | undefined;
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0) await sleep(BACKOFF_BASE_MS * 2 ** (attempt - 1) * (0.5 + Math.random()));
      const started = performance.now();
      const outcome = (type?: string) => countKmsAttempt(operation, started, type);
      let response: Response;
      try {
        response = await this.aws.fetch(this.endpoint, {
          method: "POST",
          headers: { "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": `TrentService.${operation}` },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(this.settings.timeoutMs ?? 2000),
        });
      } catch (error) {
        outcome((error as Error).name === "TimeoutError" ? "Timeout" : "NetworkError");
        lastError = new KmsUnavailableError(`KMS ${operation} failed: ${(error as Error).name}`);
        continue;
      }
      const text = await response.text();
      if (response.ok) {
        const answer = jsonObject(text);
        outcome(answer ? undefined : "MalformedResponse");
        if (answer) return answer;
        // Not KMS speaking (a proxy's error page, a truncated body): worth another attempt.
        lastError = new KmsUnavailableError(`KMS ${operation} answered 200 with a body that is not a JSON object`);
        continue;
      }
      const type = errorType(text, response.headers);
      outcome(RETRYABLE_TYPES.has(type) || KNOWN_ERROR_TYPES.has(type) ? type : "Other");
      lastError = new KmsUnavailableError(`KMS ${operation} answered ${response.status} ${type}`, type);
      if (!(RETRYABLE_TYPES.has(type) || response.status >= 500)) break;
    }
    throw lastError ?? new KmsUnavailableError(`KMS ${operation} failed`);
  }
}

/** KMS names the error in `__type` (sometimes namespaced, `com.amazon…#Name`) or `x-amzn-ErrorType`. */
function errorType(body: string, headers: Headers): string {
  let type = headers.get("x-amzn-ErrorType") ?? "";
  try {
    type = (JSON.parse(body) as { __type?: string }).__type ?? type;
  } catch {
    // not JSON: keep the header's value
  }
  return type.split("#").pop()!.split(":")[0] || "Unknown";
}

function jsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A base64 member of a KMS answer; anything else means the answer was not KMS's. */
function decodeBase64Member(operation: string, value: string): Uint8Array<ArrayBuffer> {
  try {
    return fromBase64(value);
  } catch {
    throw new KmsUnavailableError(`KMS ${operation} answered 200 with a member that is not base64`);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
