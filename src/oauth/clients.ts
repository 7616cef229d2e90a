import { asc, eq } from "drizzle-orm";
import { sha256Hex } from "../crypto/digest";
import { randomBase64Url } from "../crypto/random";
import type { Database } from "../db/client";
import { type OAuthClientRow, oauthClients } from "../db/schema";
import { isoTime } from "../schemas/common";
import { CLIENT_DEFAULTS, type OAuthClientFields } from "./client-schemas";
import { newClientSecret } from "./secrets";

/** A client id is public but unguessable, so nobody can enumerate the registry through `authorize`. */
const CLIENT_ID_BYTES = 16;

/** Public clients (`none`) have no secret: PKCE is their proof. */
export const clientUsesSecret = (fields: Pick<OAuthClientFields, "tokenEndpointAuthMethod">) =>
  fields.tokenEndpointAuthMethod === "client_secret_basic" || fields.tokenEndpointAuthMethod === "client_secret_post";

export function clientFieldsOf(row: OAuthClientRow): OAuthClientFields {
  return {
    name: row.name,
    logoUri: row.logoUri,
    redirectUris: row.redirectUris,
    postLogoutRedirectUris: row.postLogoutRedirectUris,
    grantTypes: row.grantTypes as OAuthClientFields["grantTypes"],
    scopes: row.scopes,
    audiences: row.audiences,
    tokenEndpointAuthMethod: row.tokenEndpointAuthMethod as OAuthClientFields["tokenEndpointAuthMethod"],
    jwks: row.jwks,
    jwksUri: row.jwksUri,
    idTokenSignedResponseAlg: row.idTokenSignedResponseAlg as OAuthClientFields["idTokenSignedResponseAlg"],
    accessTokenSignedResponseAlg: row.accessTokenSignedResponseAlg as OAuthClientFields["accessTokenSignedResponseAlg"],
    accessTokenTtlSeconds: row.accessTokenTtlSeconds,
    idTokenTtlSeconds: row.idTokenTtlSeconds,
    refreshTokenTtlSeconds: row.refreshTokenTtlSeconds,
    firstParty: row.firstParty,
  };
}

/** The client as the admin API shows it: never a hash. */
export function clientView(row: OAuthClientRow) {
  return {
    clientId: row.id,
    ...clientFieldsOf(row),
    hasSecret: row.secretHash !== null,
    previousSecretExpiresAt: isoTime(row.previousSecretExpiresAt),
    createdAt: new Date(row.createdAt).toISOString(),
    updatedAt: new Date(row.updatedAt).toISOString(),
  };
}

export function withDefaults(fields: Partial<OAuthClientFields> & { name: string }): OAuthClientFields {
  return { ...CLIENT_DEFAULTS, ...fields };
}

/** Registers a client; the secret (when its auth method has one) is returned here and never again. */
export async function createClient(
  db: Database,
  fields: OAuthClientFields,
  createdBy: string,
): Promise<{ row: OAuthClientRow; secret: string | null }> {
  const now = Date.now();
  const secret = clientUsesSecret(fields) ? newClientSecret() : null;
  const row: OAuthClientRow = {
    id: randomBase64Url(CLIENT_ID_BYTES),
    ...fields,
    secretHash: secret === null ? null : await sha256Hex(secret),
    previousSecretHash: null,
    previousSecretExpiresAt: null,
    createdBy,
    createdAt: now,
    updatedAt: now,
  };
  await db.insert(oauthClients).values(row);
  return { row, secret };
}

export async function findClient(db: Database, id: string): Promise<OAuthClientRow | undefined> {
  return db.select().from(oauthClients).where(eq(oauthClients.id, id)).get();
}

export async function listClients(db: Database): Promise<OAuthClientRow[]> {
  return db.select().from(oauthClients).orderBy(asc(oauthClients.createdAt), asc(oauthClients.id)).all();
}

/**
 * Stores the merged fields. Moving to an auth method without a secret drops the hashes; moving to
 * one with a secret from one without mints it (returned once).
 */
export async function updateClient(
  db: Database,
  row: OAuthClientRow,
  fields: OAuthClientFields,
): Promise<{ row: OAuthClientRow; secret: string | null }> {
  const needsSecret = clientUsesSecret(fields);
  const secret = needsSecret && row.secretHash === null ? newClientSecret() : null;
  const secrets = !needsSecret
    ? { secretHash: null, previousSecretHash: null, previousSecretExpiresAt: null }
    : secret !== null
      ? { secretHash: await sha256Hex(secret), previousSecretHash: null, previousSecretExpiresAt: null }
      : {};
  const updated = { ...row, ...fields, ...secrets, updatedAt: Date.now() };
  await db.update(oauthClients).set(updated).where(eq(oauthClients.id, row.id));
  return { row: updated, secret };
}

export async function deleteClient(db: Database, id: string): Promise<boolean> {
  const deleted = await db.delete(oauthClients).where(eq(oauthClients.id, id)).returning({ id: oauthClients.id });
  return deleted.length > 0;
}

/** A new secret; the current one becomes the previous, valid `overlapSeconds` more (0: at once invalid). */
export async function rotateClientSecret(
  db: Database,
  row: OAuthClientRow,
  overlapSeconds: number,
): Promise<{ row: OAuthClientRow; secret: string }> {
  const now = Date.now();
  const secret = newClientSecret();
  const updated: OAuthClientRow = {
    ...row,
    secretHash: await sha256Hex(secret),
    previousSecretHash: overlapSeconds > 0 ? row.secretHash : null,
    previousSecretExpiresAt: overlapSeconds > 0 ? now + overlapSeconds * 1000 : null,
    updatedAt: now,
  };
  await db.update(oauthClients).set(updated).where(eq(oauthClients.id, row.id));
  return { row: updated, secret };
}
