// Operator scripts for the PQC signing key in AWS KMS (docs/operations.md, "Key rotation runbook"), on
// @aws-sdk/client-kms. Credentials and region come from the SDK's usual chain (AWS_PROFILE,
// AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_REGION); KMS_ENDPOINT points it elsewhere (the fake
// KMS in tests).
//   npx node scripts/ops/kms.ts create  --alias alias/headykey-pqc-production
//   npx node scripts/ops/kms.ts show    --key alias/headykey-pqc-production
//   npx node scripts/ops/kms.ts rotate  --alias alias/headykey-pqc-production
//   npx node scripts/ops/kms.ts retire  --key <old key id> --alias alias/headykey-pqc-production --rotated-at <ISO time> [--overlap-hours 48] [--pending-days 30]
// Every command prints one JSON object.
import { createHash, createPublicKey } from "node:crypto";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  GetPublicKeyCommand,
  KMSClient,
  ListAliasesCommand,
  ScheduleKeyDeletionCommand,
  UpdateAliasCommand,
} from "@aws-sdk/client-kms";

/** How long the old key stays published and verifying after the alias moved, unless told otherwise. */
export const DEFAULT_OVERLAP_HOURS = 48;

/** The public key as the Worker publishes it in its JWKS. */
export interface PublicJwk {
  kty: string;
  alg: string;
  pub: string;
  kid: string;
  use: "sig";
}

/** A field the SDK types as optional but KMS always answers with: its absence is an error worth naming. */
function answered<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`KMS answered without ${what}`);
  return value;
}

/** The key id in a CreateKey or DescribeKey answer. */
const keyIdOf = (answer: { KeyMetadata?: { KeyId?: string } }): string => answered(answer.KeyMetadata?.KeyId, "KeyMetadata.KeyId");

/** A KMS client from the environment (KMS_ENDPOINT overrides the endpoint). */
export function kmsFromEnvironment(env: NodeJS.ProcessEnv = process.env): KMSClient {
  return new KMSClient({ region: env.AWS_REGION ?? "us-east-1", ...(env.KMS_ENDPOINT ? { endpoint: env.KMS_ENDPOINT } : {}) });
}

/**
 * The key's public key as the Worker publishes it: an RFC 9964 AKP JWK (Node 24 exports ML-DSA keys
 * as AKP JWKs) with its RFC 7638 thumbprint as `kid`, the same `kid` the Worker puts in tokens.
 */
export async function publicJwk(kms: KMSClient, keyId: string): Promise<{ keyId: string; jwk: PublicJwk }> {
  const answer = await kms.send(new GetPublicKeyCommand({ KeyId: keyId }));
  if (answer.KeySpec !== "ML_DSA_65") throw new Error(`${keyId} is a ${answer.KeySpec} key, not ML_DSA_65`);
  const spki = Buffer.from(answered(answer.PublicKey, "PublicKey"));
  const { alg, kty, pub } = createPublicKey({ key: spki, format: "der", type: "spki" }).export({ format: "jwk" }) as Omit<
    PublicJwk,
    "kid" | "use"
  >;
  const kid = createHash("sha256").update(JSON.stringify({ alg, kty, pub })).digest("base64url");
  return { keyId: answered(answer.KeyId, "KeyId"), jwk: { kty, alg, pub, kid, use: "sig" } };
}

/** Creates an ML_DSA_65 SIGN_VERIFY key and points `alias` at it. */
export async function createSigningKey(kms: KMSClient, alias: string, description = `HeadyKey PQC token signer (${alias})`) {
  const created = await kms.send(new CreateKeyCommand({ KeySpec: "ML_DSA_65", KeyUsage: "SIGN_VERIFY", Description: description }));
  const keyId = keyIdOf(created);
  await kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: keyId }));
  const { jwk } = await publicJwk(kms, keyId);
  return { alias, keyId, arn: created.KeyMetadata?.Arn, kid: jwk.kid, jwk };
}

/** The key id `alias` points at now. */
async function aliasTarget(kms: KMSClient, alias: string): Promise<string> {
  return keyIdOf(await kms.send(new DescribeKeyCommand({ KeyId: alias })));
}

/** Rotation: a new key, then the alias moved to it. The old key keeps working until `retire`. */
export async function rotateSigningKey(kms: KMSClient, alias: string, now = new Date()) {
  const previous = await publicJwk(kms, await aliasTarget(kms, alias));
  const keyId = keyIdOf(
    await kms.send(
      new CreateKeyCommand({
        KeySpec: "ML_DSA_65",
        KeyUsage: "SIGN_VERIFY",
        Description: `HeadyKey PQC token signer (${alias}), rotated ${now.toISOString()}`,
      }),
    ),
  );
  await kms.send(new UpdateAliasCommand({ AliasName: alias, TargetKeyId: keyId }));
  const { jwk } = await publicJwk(kms, keyId);
  return {
    alias,
    rotatedAt: now.toISOString(),
    previous: { keyId: keyIdOf(await kms.send(new DescribeKeyCommand({ KeyId: previous.keyId }))), kid: previous.jwk.kid },
    current: { keyId, kid: jwk.kid },
  };
}

/**
 * Schedules the old key's deletion, only once the overlap has passed since the rotation and only
 * for a key no alias points at (in particular not `alias`'s current key).
 */
export async function retireSigningKey(
  kms: KMSClient,
  {
    keyId,
    alias,
    rotatedAt,
    overlapHours = DEFAULT_OVERLAP_HOURS,
    pendingDays = 30,
    now = new Date(),
  }: { keyId: string; alias: string; rotatedAt: string; overlapHours?: number; pendingDays?: number; now?: Date },
) {
  const rotated = new Date(rotatedAt);
  if (Number.isNaN(rotated.getTime())) throw new Error("--rotated-at must be the ISO time rotate printed");
  const due = new Date(rotated.getTime() + overlapHours * 3_600_000);
  if (now < due) throw new Error(`the overlap has not passed: ${keyId} may be scheduled for deletion from ${due.toISOString()}`);
  const described = keyIdOf(await kms.send(new DescribeKeyCommand({ KeyId: keyId })));
  if (described === (await aliasTarget(kms, alias))) throw new Error(`${keyId} is still ${alias}'s key: rotate first`);
  const aliases = answered((await kms.send(new ListAliasesCommand({ KeyId: described }))).Aliases, "Aliases");
  if (aliases.length > 0) throw new Error(`${keyId} is still the key of ${aliases.map((entry) => entry.AliasName).join(", ")}`);
  const scheduled = await kms.send(new ScheduleKeyDeletionCommand({ KeyId: described, PendingWindowInDays: pendingDays }));
  return {
    keyId: described,
    keyState: scheduled.KeyState,
    deletionDate: new Date(answered(scheduled.DeletionDate, "DeletionDate")).toISOString(),
  };
}

async function main(argv: string[]) {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      alias: { type: "string" },
      key: { type: "string" },
      "rotated-at": { type: "string" },
      "overlap-hours": { type: "string" },
      "pending-days": { type: "string" },
      description: { type: "string" },
    },
  });
  const kms = kmsFromEnvironment();
  const need = (name: keyof typeof values): string => {
    if (!values[name]) throw new Error(`--${name} is required`);
    return values[name];
  };
  switch (positionals[0]) {
    case "create":
      return createSigningKey(kms, need("alias"), values.description);
    case "show": {
      const { keyId, jwk } = await publicJwk(kms, need("key"));
      return { keyId, kid: jwk.kid, jwk };
    }
    case "rotate":
      return rotateSigningKey(kms, need("alias"));
    case "retire":
      return retireSigningKey(kms, {
        keyId: need("key"),
        alias: need("alias"),
        rotatedAt: need("rotated-at"),
        overlapHours: values["overlap-hours"] === undefined ? DEFAULT_OVERLAP_HOURS : Number(values["overlap-hours"]),
        pendingDays: values["pending-days"] === undefined ? 30 : Number(values["pending-days"]),
      });
    default:
      throw new Error("usage: npx node scripts/ops/kms.ts <create|show|rotate|retire> [options] (see the file's header)");
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (result) => console.log(JSON.stringify(result, null, 2)),
    (error) => {
      console.error(`kms: ${error.message}`);
      process.exit(1);
    },
  );
}
