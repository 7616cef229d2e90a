import { createHash, generateKeyPairSync, type KeyObject, randomBytes, randomUUID, sign, timingSafeEqual, verify } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { Sha256 } from "@aws-crypto/sha256-js";
import { ml_dsa65 } from "@noble/post-quantum/ml-dsa.js";
import { SignatureV4 } from "@smithy/signature-v4";

/**
 * A local stand-in for AWS KMS, for tests. It speaks the KMS JSON 1.1 protocol
 * (`POST /`, `Content-Type: application/x-amz-json-1.1`, `X-Amz-Target: TrentService.<Operation>`),
 * authenticates every call the way AWS does (SigV4: known access key id, credential scope for this
 * region and `kms`, a signed `host` and `x-amz-date` within 5 minutes, and a signature recomputed
 * with `@smithy/signature-v4` from the request's own signed headers and body, compared in constant
 * time), and signs with one ML-DSA-65 key held by Node's own crypto (OpenSSL).
 *
 * For the operator scripts (scripts/ops/kms.ts) it also keeps more keys and aliases: CreateKey (ML_DSA_65
 * SIGN_VERIFY only), DescribeKey, CreateAlias, UpdateAlias, ListAliases and ScheduleKeyDeletion (a key
 * pending deletion refuses Sign and GetPublicKey with KMSInvalidStateException, as in AWS).
 *
 * Test controls live on a plain-HTTP side path, scoped per access key so that test files sharing one
 * server cannot disturb each other:
 * - `POST /__tenants` → `{accessKeyId, secretAccessKey}`: fresh credentials with their own mode and stats;
 * - `POST /__control {accessKeyId, mode, operations?, times?, delayMs?}`: `ok`, `throttle`
 *   (400 ThrottlingException), `down` (500 KMSInternalException), `destroy` (the socket is
 *   destroyed without an answer), `slow` (answers after `delayMs`) or `garbage` (200 with `body`,
 *   by default an HTML page, as a broken proxy in front of KMS would answer), for the given operations
 *   (default all) and the next `times` calls (default: until changed);
 * - `GET /__stats?accessKeyId=…` → call counts per operation and error counts per type;
 * - `POST /__reset {accessKeyId}`: mode `ok`, counters zero.
 */

export const KMS_OPERATIONS = ["Sign", "Verify", "GetPublicKey"] as const;
export type KmsOperation = (typeof KMS_OPERATIONS)[number];
/** What the operator scripts (scripts/ops/kms.ts) call; not counted in the stats, never troubled by a mode. */
export const MANAGEMENT_OPERATIONS = [
  "CreateKey",
  "DescribeKey",
  "CreateAlias",
  "UpdateAlias",
  "ListAliases",
  "ScheduleKeyDeletion",
] as const;
export type ManagementOperation = (typeof MANAGEMENT_OPERATIONS)[number];
export type FakeKmsMode = "ok" | "throttle" | "down" | "destroy" | "slow" | "garbage";

export interface FakeKmsStats {
  /** Authenticated calls that reached each operation, whatever the answer. */
  calls: Record<KmsOperation, number>;
  /** Calls answered with a signature or public key. */
  succeeded: Record<KmsOperation, number>;
  /** Error answers by `__type`, including authentication refusals for this access key. */
  errors: Record<string, number>;
}

export interface FakeKmsControl {
  accessKeyId: string;
  mode: FakeKmsMode;
  operations?: KmsOperation[];
  /** How many matching calls the mode applies to before it reverts to `ok`; unlimited when omitted. */
  times?: number;
  /** For `slow`: how long to wait before answering. Default 10 s. */
  delayMs?: number;
  /** For `garbage`: the 200 answer's body. */
  body?: string;
}

export interface FakeKms {
  url: string;
  region: string;
  accountId: string;
  keyId: string;
  keyArn: string;
  alias: string;
  aliasArn: string;
  /** DER SubjectPublicKeyInfo of the key (1974 bytes). */
  publicKeySpki: Buffer;
  /** The credentials every test runtime gets as bindings (a tenant like any other). */
  accessKeyId: string;
  secretAccessKey: string;
  /** Requests refused because their access key id is unknown (they belong to no tenant). */
  unrecognizedCalls(): number;
  close(): Promise<void>;
}

const SIGNING_ALGORITHM = "ML_DSA_SHAKE_256";
const OTHER_SIGNING_ALGORITHMS = new Set([
  "RSASSA_PSS_SHA_256",
  "RSASSA_PSS_SHA_384",
  "RSASSA_PSS_SHA_512",
  "RSASSA_PKCS1_V1_5_SHA_256",
  "RSASSA_PKCS1_V1_5_SHA_384",
  "RSASSA_PKCS1_V1_5_SHA_512",
  "ECDSA_SHA_256",
  "ECDSA_SHA_384",
  "ECDSA_SHA_512",
  "SM2DSA",
]);
const RAW_MESSAGE_LIMIT = 4096;
const EXTERNAL_MU_BYTES = 64;
const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;
const SPKI_BYTES = 1974;
/** What a captive portal or a misconfigured proxy answers instead of KMS. */
const GARBAGE_BODY = "<html><body>Service temporarily unavailable</body></html>";

const MESSAGES = {
  missingToken: "Missing Authentication Token",
  unrecognized: "The security token included in the request is invalid.",
  mismatch:
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
} as const;

/** A KMS error answer: the JSON 1.1 protocol names the error in `__type`. */
class KmsFault extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

interface Tenant {
  secretAccessKey: string;
  mode: FakeKmsMode;
  operations: Set<KmsOperation>;
  remaining: number;
  delayMs: number;
  garbage: string;
  stats: FakeKmsStats;
}

const zeroCounts = (): Record<KmsOperation, number> => ({ Sign: 0, Verify: 0, GetPublicKey: 0 });
const freshStats = (): FakeKmsStats => ({ calls: zeroCounts(), succeeded: zeroCounts(), errors: {} });

function newCredentials(): { accessKeyId: string; secretAccessKey: string } {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const id = [...randomBytes(16)].map((byte) => alphabet[byte % 32]).join("");
  return { accessKeyId: `AKIA${id}`, secretAccessKey: randomBytes(30).toString("base64") };
}

/** `20250101T120000Z` → Date, or undefined when it is not that format. */
function parseAmzDate(value: string): Date | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s] = match.map(Number) as [number, number, number, number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

const amzDate = (date: Date) =>
  date
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");

interface ParsedAuthorization {
  accessKeyId: string;
  scopeDate: string;
  region: string;
  service: string;
  terminator: string;
  signedHeaders: string[];
  signature: string;
}

function parseAuthorization(header: string): ParsedAuthorization {
  const match = /^AWS4-HMAC-SHA256 (.+)$/.exec(header.trim());
  if (!match)
    throw new KmsFault(
      400,
      "IncompleteSignatureException",
      `Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=${header}`,
    );
  const parts = new Map<string, string>();
  for (const part of match[1]!.split(",")) {
    const eq = part.indexOf("=");
    if (eq > 0) parts.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  for (const name of ["Credential", "SignedHeaders", "Signature"]) {
    if (!parts.get(name)) {
      throw new KmsFault(400, "IncompleteSignatureException", `Authorization header requires '${name}' parameter. Authorization=${header}`);
    }
  }
  const credential = parts.get("Credential")!.split("/");
  if (credential.length !== 5) {
    throw new KmsFault(400, "IncompleteSignatureException", `Credential should have 5 parts: '${parts.get("Credential")}'.`);
  }
  const [accessKeyId, scopeDate, region, service, terminator] = credential as [string, string, string, string, string];
  return {
    accessKeyId,
    scopeDate,
    region,
    service,
    terminator,
    signedHeaders: parts.get("SignedHeaders")!.split(";"),
    signature: parts.get("Signature")!,
  };
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

function base64Field(body: Record<string, unknown>, name: string, required = true): Buffer | undefined {
  const value = body[name];
  if (value === undefined && !required) return undefined;
  if (typeof value !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length === 0) {
    throw new KmsFault(
      400,
      "ValidationException",
      `1 validation error detected: Value at '${name.charAt(0).toLowerCase()}${name.slice(1)}' failed to satisfy constraint: Member must be base64 and not empty`,
    );
  }
  return Buffer.from(value, "base64");
}

export async function startFakeKms(options: { region?: string; accountId?: string } = {}): Promise<FakeKms> {
  const region = options.region ?? "us-east-1";
  const accountId = options.accountId ?? "111122223333";
  const keyId = randomUUID();
  const keyArn = `arn:aws:kms:${region}:${accountId}:key/${keyId}`;
  const alias = "alias/headykey-pqc-test";
  const aliasArn = `arn:aws:kms:${region}:${accountId}:${alias}`;

  /** Every key, by key id: the default one, and those CreateKey makes (the operator scripts' tests). */
  const keys = new Map<string, FakeKey>();
  /** Alias name (`alias/…`) → key id. Test files that rotate use their own alias names. */
  const aliases = new Map<string, string>();
  const newKey = (description: string, id = randomUUID()): FakeKey => {
    const key = generateFakeKey(`arn:aws:kms:${region}:${accountId}:key/${id}`, id, description);
    keys.set(id, key);
    return key;
  };
  const defaultKey = newKey("the default test key", keyId);
  aliases.set(alias, keyId);
  const publicKeySpki = defaultKey.spki;

  const tenants = new Map<string, Tenant>();
  const addTenant = () => {
    const credentials = newCredentials();
    tenants.set(credentials.accessKeyId, {
      secretAccessKey: credentials.secretAccessKey,
      mode: "ok",
      operations: new Set(KMS_OPERATIONS),
      remaining: Infinity,
      delayMs: 10_000,
      garbage: GARBAGE_BODY,
      stats: freshStats(),
    });
    return credentials;
  };
  const defaultCredentials = addTenant();
  let unrecognized = 0;

  const aliasPrefix = `arn:aws:kms:${region}:${accountId}:`;
  const keyPrefix = `arn:aws:kms:${region}:${accountId}:key/`;

  /** The key a KeyId names (key id, key ARN, alias name or alias ARN), whatever its state. */
  function findKey(requested: unknown, member = "keyId"): FakeKey {
    if (typeof requested !== "string" || requested.length === 0) {
      throw new KmsFault(
        400,
        "ValidationException",
        `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`,
      );
    }
    const aliasName = requested.startsWith(aliasPrefix) ? requested.slice(aliasPrefix.length) : requested;
    if (aliasName.startsWith("alias/")) {
      const target = aliases.get(aliasName);
      if (!target) throw new KmsFault(400, "NotFoundException", `Alias ${aliasPrefix}${aliasName} is not found.`);
      return keys.get(target)!;
    }
    const key = keys.get(requested.startsWith(keyPrefix) ? requested.slice(keyPrefix.length) : requested);
    if (!key)
      throw new KmsFault(
        400,
        "NotFoundException",
        `Key '${requested.includes(":") ? requested : `${keyPrefix}${requested}`}' does not exist`,
      );
    return key;
  }

  /** The key a cryptographic operation names; a key pending deletion refuses to work, as in AWS. */
  function resolveKey(body: Record<string, unknown>): FakeKey {
    const key = findKey(body.KeyId);
    if (key.state !== "Enabled") throw new KmsFault(400, "KMSInvalidStateException", `${key.arn} is pending deletion.`);
    return key;
  }

  function aliasNameOf(body: Record<string, unknown>): string {
    const name = body.AliasName;
    if (typeof name !== "string" || !/^alias\/[a-zA-Z0-9/_-]{1,250}$/.test(name) || name.startsWith("alias/aws/")) {
      throw new KmsFault(400, "ValidationException", `Alias must start with the prefix "alias/" and may not begin with "alias/aws/".`);
    }
    return name;
  }

  const management: Record<ManagementOperation, (body: Record<string, unknown>) => Record<string, unknown>> = {
    CreateKey(body) {
      if (body.KeySpec !== "ML_DSA_65" || body.KeyUsage !== "SIGN_VERIFY") {
        throw new KmsFault(400, "ValidationException", "This fake KMS makes ML_DSA_65 SIGN_VERIFY keys only.");
      }
      return { KeyMetadata: metadata(newKey(typeof body.Description === "string" ? body.Description : "")) };
    },
    DescribeKey: (body) => ({ KeyMetadata: metadata(findKey(body.KeyId)) }),
    CreateAlias(body) {
      const name = aliasNameOf(body);
      if (aliases.has(name))
        throw new KmsFault(400, "AlreadyExistsException", `An alias with the name ${aliasPrefix}${name} already exists`);
      aliases.set(name, resolveKey({ KeyId: body.TargetKeyId }).keyId);
      return {};
    },
    UpdateAlias(body) {
      const name = aliasNameOf(body);
      if (!aliases.has(name)) throw new KmsFault(400, "NotFoundException", `Alias ${aliasPrefix}${name} is not found.`);
      aliases.set(name, resolveKey({ KeyId: body.TargetKeyId }).keyId);
      return {};
    },
    ListAliases(body) {
      const only = body.KeyId === undefined ? undefined : findKey(body.KeyId).keyId;
      const listed = [...aliases].filter(([, target]) => only === undefined || target === only);
      return {
        Aliases: listed.map(([name, target]) => ({ AliasName: name, AliasArn: `${aliasPrefix}${name}`, TargetKeyId: target })),
        Truncated: false,
      };
    },
    ScheduleKeyDeletion(body) {
      const key = findKey(body.KeyId);
      const days = body.PendingWindowInDays ?? 30;
      if (typeof days !== "number" || !Number.isInteger(days) || days < 7 || days > 30) {
        throw new KmsFault(400, "ValidationException", "PendingWindowInDays must be between 7 and 30.");
      }
      if (key.state !== "Enabled") throw new KmsFault(400, "KMSInvalidStateException", `${key.arn} is pending deletion.`);
      key.state = "PendingDeletion";
      key.deletionDate = Math.floor(Date.now() / 1000) + days * 86_400;
      return { KeyId: key.arn, DeletionDate: key.deletionDate, KeyState: key.state, PendingWindowInDays: days };
    },
  };

  function signingInput(body: Record<string, unknown>): { message: Buffer; type: "RAW" | "EXTERNAL_MU" } {
    const algorithm = body.SigningAlgorithm;
    if (algorithm !== SIGNING_ALGORITHM) {
      if (typeof algorithm === "string" && OTHER_SIGNING_ALGORITHMS.has(algorithm)) {
        throw new KmsFault(
          400,
          "InvalidKeyUsageException",
          `Signing algorithm ${algorithm} is not supported for this key. Supported: ${SIGNING_ALGORITHM}`,
        );
      }
      throw new KmsFault(
        400,
        "ValidationException",
        `1 validation error detected: Value '${String(algorithm)}' at 'signingAlgorithm' failed to satisfy constraint: Member must satisfy enum value set`,
      );
    }
    const type = body.MessageType ?? "RAW";
    const message = base64Field(body, "Message")!;
    if (type === "RAW") {
      if (message.length > RAW_MESSAGE_LIMIT) {
        throw new KmsFault(
          400,
          "ValidationException",
          `1 validation error detected: Value at 'message' failed to satisfy constraint: Member must have length less than or equal to ${RAW_MESSAGE_LIMIT}`,
        );
      }
      return { message, type };
    }
    if (type === "EXTERNAL_MU") {
      if (message.length !== EXTERNAL_MU_BYTES) {
        throw new KmsFault(400, "ValidationException", `An EXTERNAL_MU message must be exactly ${EXTERNAL_MU_BYTES} bytes.`);
      }
      return { message, type };
    }
    if (type === "DIGEST")
      throw new KmsFault(400, "ValidationException", "ML_DSA keys do not support MessageType DIGEST; use RAW or EXTERNAL_MU.");
    throw new KmsFault(
      400,
      "ValidationException",
      `1 validation error detected: Value '${String(type)}' at 'messageType' failed to satisfy constraint: Member must satisfy enum value set: [EXTERNAL_MU, RAW, DIGEST]`,
    );
  }

  const operations: Record<KmsOperation, (body: Record<string, unknown>) => Record<string, unknown>> = {
    GetPublicKey(body) {
      const key = resolveKey(body);
      return {
        KeyId: key.arn,
        PublicKey: key.spki.toString("base64"),
        CustomerMasterKeySpec: "ML_DSA_65",
        KeySpec: "ML_DSA_65",
        KeyUsage: "SIGN_VERIFY",
        SigningAlgorithms: [SIGNING_ALGORITHM],
      };
    },
    Sign(body) {
      const key = resolveKey(body);
      const { message, type } = signingInput(body);
      const signature =
        type === "RAW"
          ? sign(null, message, key.privateKey)
          : Buffer.from(ml_dsa65.internal.sign(message, key.nobleSecretKey, { externalMu: true }));
      return { KeyId: key.arn, Signature: signature.toString("base64"), SigningAlgorithm: SIGNING_ALGORITHM };
    },
    Verify(body) {
      const key = resolveKey(body);
      const { message, type } = signingInput(body);
      const signature = base64Field(body, "Signature")!;
      const valid =
        type === "RAW"
          ? verifyRaw(key.publicKey, message, signature)
          : ml_dsa65.internal.verify(signature, message, ml_dsa65.keygen(key.seed).publicKey, { externalMu: true });
      if (!valid) throw new KmsFault(400, "KMSInvalidSignatureException", "");
      return { KeyId: key.arn, SignatureValid: true, SigningAlgorithm: SIGNING_ALGORITHM };
    },
  };

  /** SigV4 as AWS checks it; returns the caller's tenant or throws the fault AWS would answer with. */
  async function authenticate(request: IncomingMessage, body: Buffer): Promise<Tenant> {
    const header = request.headers.authorization;
    if (!header) throw new KmsFault(400, "MissingAuthenticationTokenException", MESSAGES.missingToken);
    const auth = parseAuthorization(header);
    const tenant = tenants.get(auth.accessKeyId);
    if (!tenant) {
      unrecognized++;
      throw new KmsFault(400, "UnrecognizedClientException", MESSAGES.unrecognized);
    }
    try {
      if (auth.terminator !== "aws4_request") {
        throw new KmsFault(400, "InvalidSignatureException", "Credential should be scoped with a valid terminator: 'aws4_request'.");
      }
      if (auth.service !== "kms") {
        throw new KmsFault(400, "InvalidSignatureException", "Credential should be scoped to correct service: 'kms'.");
      }
      if (auth.region !== region) throw new KmsFault(400, "InvalidSignatureException", "Credential should be scoped to a valid region.");
      for (const required of ["host", "x-amz-date"]) {
        if (!auth.signedHeaders.includes(required)) {
          throw new KmsFault(
            400,
            "InvalidSignatureException",
            `'${required === "host" ? "Host" : "X-Amz-Date"}' must be a 'SignedHeader' in the AWS Authorization.`,
          );
        }
      }
      const dateHeader = String(request.headers["x-amz-date"] ?? "");
      const signedAt = parseAmzDate(dateHeader);
      if (!signedAt) {
        throw new KmsFault(
          400,
          "IncompleteSignatureException",
          "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        );
      }
      if (auth.scopeDate !== dateHeader.slice(0, 8)) {
        throw new KmsFault(
          400,
          "InvalidSignatureException",
          `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${auth.scopeDate}' != '${dateHeader.slice(0, 8)}', from '${dateHeader}'.`,
        );
      }
      const now = Date.now();
      if (signedAt.getTime() < now - MAX_CLOCK_SKEW_MS) {
        throw new KmsFault(
          400,
          "InvalidSignatureException",
          `Signature expired: ${dateHeader} is now earlier than ${amzDate(new Date(now - MAX_CLOCK_SKEW_MS))} (${amzDate(new Date(now))} - 5 min.)`,
        );
      }
      if (signedAt.getTime() > now + MAX_CLOCK_SKEW_MS) {
        throw new KmsFault(
          400,
          "InvalidSignatureException",
          `Signature not yet current: ${dateHeader} is still later than ${amzDate(new Date(now + MAX_CLOCK_SKEW_MS))} (${amzDate(new Date(now))} + 5 min.)`,
        );
      }

      // The payload hash is always the body's own; a signed x-amz-content-sha256 must agree with it.
      const bodyHash = createHash("sha256").update(body).digest("hex");
      const claimedHash = request.headers["x-amz-content-sha256"];
      if (auth.signedHeaders.includes("x-amz-content-sha256") && claimedHash !== bodyHash) {
        throw new KmsFault(400, "InvalidSignatureException", MESSAGES.mismatch);
      }

      // Recompute the signature over exactly the headers the caller says it signed, with the caller's own date.
      const headers: Record<string, string> = {};
      for (const name of auth.signedHeaders) {
        const value = request.headers[name];
        if (value === undefined) throw new KmsFault(400, "InvalidSignatureException", MESSAGES.mismatch);
        headers[name] = Array.isArray(value) ? value.join(",") : value;
      }
      const url = new URL(request.url ?? "/", "http://placeholder");
      const signer = new SignatureV4({
        credentials: { accessKeyId: auth.accessKeyId, secretAccessKey: tenant.secretAccessKey },
        region,
        service: "kms",
        sha256: Sha256,
        applyChecksum: false,
      });
      const signed = await signer.sign(
        {
          method: request.method ?? "POST",
          protocol: "http:",
          hostname: headers.host ?? "",
          path: url.pathname,
          query: Object.fromEntries(url.searchParams),
          headers,
          body,
        },
        { signingDate: signedAt, signableHeaders: new Set(auth.signedHeaders) },
      );
      const expected = /Signature=([0-9a-f]{64})$/.exec(String(signed.headers.authorization))?.[1] ?? "";
      const recomputedHeaders = /SignedHeaders=([^,]+),/.exec(String(signed.headers.authorization))?.[1];
      const given = Buffer.from(auth.signature, "utf8");
      const wanted = Buffer.from(expected, "utf8");
      const match = given.length === wanted.length && timingSafeEqual(given, wanted);
      if (!match || recomputedHeaders !== auth.signedHeaders.join(";")) {
        throw new KmsFault(400, "InvalidSignatureException", MESSAGES.mismatch);
      }
      return tenant;
    } catch (error) {
      if (error instanceof KmsFault) tenant.stats.errors[error.type] = (tenant.stats.errors[error.type] ?? 0) + 1;
      throw error;
    }
  }

  function answer(response: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    response.writeHead(status, {
      "Content-Type": "application/x-amz-json-1.1",
      "Content-Length": Buffer.byteLength(text),
      "x-amzn-RequestId": randomUUID(),
    });
    response.end(text);
  }

  function fault(response: ServerResponse, error: KmsFault): void {
    answer(response, error.status, { __type: error.type, message: error.message });
  }

  async function control(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    const plain = (status: number, body: unknown) => {
      response.writeHead(status, { "Content-Type": "application/json" });
      response.end(JSON.stringify(body));
    };
    if (request.method === "POST" && url.pathname === "/__tenants") return plain(200, addTenant());
    if (request.method === "GET" && url.pathname === "/__stats") {
      const tenant = tenants.get(url.searchParams.get("accessKeyId") ?? "");
      return tenant ? plain(200, tenant.stats) : plain(404, { error: "unknown accessKeyId" });
    }
    const body = JSON.parse((await readBody(request)).toString("utf8") || "{}") as Partial<FakeKmsControl>;
    const tenant = tenants.get(body.accessKeyId ?? "");
    if (!tenant) return plain(404, { error: "unknown accessKeyId" });
    if (request.method === "POST" && url.pathname === "/__reset") {
      Object.assign(tenant, {
        mode: "ok",
        operations: new Set(KMS_OPERATIONS),
        remaining: Infinity,
        delayMs: 10_000,
        garbage: GARBAGE_BODY,
        stats: freshStats(),
      });
      return plain(200, { ok: true });
    }
    if (request.method === "POST" && url.pathname === "/__control") {
      if (!["ok", "throttle", "down", "destroy", "slow", "garbage"].includes(body.mode ?? "")) return plain(400, { error: "bad mode" });
      tenant.mode = body.mode!;
      tenant.operations = new Set(body.operations ?? KMS_OPERATIONS);
      tenant.remaining = body.times ?? Infinity;
      tenant.delayMs = body.delayMs ?? 10_000;
      tenant.garbage = body.body ?? GARBAGE_BODY;
      return plain(200, { ok: true });
    }
    return plain(404, { error: "no such control" });
  }

  /** Applies the tenant's simulated trouble; true when the request was answered (or dropped) here. */
  async function simulateTrouble(
    tenant: Tenant,
    operation: KmsOperation,
    request: IncomingMessage,
    response: ServerResponse,
  ): Promise<boolean> {
    if (tenant.mode === "ok" || !tenant.operations.has(operation) || tenant.remaining <= 0) return false;
    const mode = tenant.mode;
    if (--tenant.remaining <= 0) tenant.mode = "ok";
    const count = (type: string) => (tenant.stats.errors[type] = (tenant.stats.errors[type] ?? 0) + 1);
    switch (mode) {
      case "throttle":
        count("ThrottlingException");
        fault(response, new KmsFault(400, "ThrottlingException", "Rate exceeded"));
        return true;
      case "down":
        count("KMSInternalException");
        fault(response, new KmsFault(500, "KMSInternalException", "We encountered an internal error. Please try again."));
        return true;
      case "destroy":
        count("SocketDestroyed");
        request.socket.destroy();
        return true;
      case "slow":
        await new Promise((resolve) => setTimeout(resolve, tenant.delayMs).unref());
        return response.destroyed || request.socket.destroyed;
      case "garbage":
        count("Garbage");
        response.writeHead(200, { "Content-Type": "text/html" }).end(tenant.garbage);
        return true;
    }
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", "http://placeholder");
    if (url.pathname.startsWith("/__")) return control(request, response, url);

    const body = await readBody(request);
    if (request.method !== "POST" || url.pathname !== "/") {
      return fault(response, new KmsFault(400, "UnknownOperationException", ""));
    }
    const target = String(request.headers["x-amz-target"] ?? "");
    const named = target.startsWith("TrentService.") ? target.slice("TrentService.".length) : "";
    const operation = (KMS_OPERATIONS as readonly string[]).includes(named) ? (named as KmsOperation) : undefined;
    const managing = (MANAGEMENT_OPERATIONS as readonly string[]).includes(named) ? (named as ManagementOperation) : undefined;
    if (!operation && !managing) return fault(response, new KmsFault(400, "UnknownOperationException", ""));

    let tenant: Tenant;
    try {
      tenant = await authenticate(request, body);
    } catch (error) {
      if (error instanceof KmsFault) return fault(response, error);
      throw error;
    }
    if (operation) {
      tenant.stats.calls[operation]++;
      if (await simulateTrouble(tenant, operation, request, response)) return;
    }

    try {
      if (!String(request.headers["content-type"] ?? "").startsWith("application/x-amz-json-1.1")) {
        throw new KmsFault(400, "SerializationException", "Start of structure or map found where not expected.");
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString("utf8"));
      } catch {
        throw new KmsFault(400, "SerializationException", "Start of structure or map found where not expected.");
      }
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        throw new KmsFault(400, "SerializationException", "Start of structure or map found where not expected.");
      }
      const input = parsed as Record<string, unknown>;
      const result = operation ? operations[operation](input) : management[managing!](input);
      if (operation) tenant.stats.succeeded[operation]++;
      answer(response, 200, result);
    } catch (error) {
      if (!(error instanceof KmsFault)) throw error;
      tenant.stats.errors[error.type] = (tenant.stats.errors[error.type] ?? 0) + 1;
      fault(response, error);
    }
  }

  const sockets = new Set<Socket>();
  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent && !response.destroyed) {
        answer(response, 500, { __type: "KMSInternalException", message: String(error) });
      }
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  server.unref();
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/`,
    region,
    accountId,
    keyId,
    keyArn,
    alias,
    aliasArn,
    publicKeySpki,
    ...defaultCredentials,
    unrecognizedCalls: () => unrecognized,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

interface FakeKey {
  keyId: string;
  arn: string;
  description: string;
  createdAt: number;
  state: "Enabled" | "PendingDeletion";
  deletionDate?: number;
  publicKey: KeyObject;
  privateKey: KeyObject;
  spki: Buffer;
  seed: Buffer;
  nobleSecretKey: Uint8Array;
}

/** A fresh ML-DSA-65 key held by Node's crypto (OpenSSL). */
function generateFakeKey(arn: string, keyId: string, description: string): FakeKey {
  const { publicKey, privateKey } = generateKeyPairSync("ml-dsa-65");
  const spki = publicKey.export({ format: "der", type: "spki" });
  if (spki.length !== SPKI_BYTES) throw new Error(`unexpected ML-DSA-65 SPKI length ${spki.length}`);
  // EXTERNAL_MU needs the internal signing API, which OpenSSL does not expose: noble signs μ with the same key (from its seed).
  const seed = Buffer.from((privateKey.export({ format: "jwk" }) as { priv: string }).priv, "base64url");
  return {
    keyId,
    arn,
    description,
    createdAt: Math.floor(Date.now() / 1000),
    state: "Enabled",
    publicKey,
    privateKey,
    spki,
    seed,
    nobleSecretKey: ml_dsa65.keygen(seed).secretKey,
  };
}

/** DescribeKey's and CreateKey's KeyMetadata. */
function metadata(key: FakeKey): Record<string, unknown> {
  return {
    KeyId: key.keyId,
    Arn: key.arn,
    Description: key.description,
    CreationDate: key.createdAt,
    Enabled: key.state === "Enabled",
    KeyState: key.state,
    ...(key.deletionDate ? { DeletionDate: key.deletionDate } : {}),
    KeySpec: "ML_DSA_65",
    KeyUsage: "SIGN_VERIFY",
    KeyManager: "CUSTOMER",
    Origin: "AWS_KMS",
    SigningAlgorithms: [SIGNING_ALGORITHM],
  };
}

function verifyRaw(publicKey: KeyObject, message: Buffer, signature: Buffer): boolean {
  try {
    return verify(null, message, publicKey, signature);
  } catch {
    return false;
  }
}
