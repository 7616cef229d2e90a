import type { OAuthClientRow } from "../db/schema";
import { assertionIssuer, JWT_BEARER_ASSERTION } from "./client-assertion";
import { OAuthError } from "./errors";
import { secretMatches } from "./secrets";

/** What a request to the token, revocation or introspection endpoint says about its client. */
export interface ClientCredentials {
  authorization: string | undefined;
  form: URLSearchParams;
}

/** How a `private_key_jwt` assertion is checked (src/oauth/client-assertion.ts), given the client it names. */
export type AssertionCheck = (client: OAuthClientRow, assertion: string) => Promise<boolean>;

const BASIC_CHALLENGE = { "WWW-Authenticate": 'Basic realm="HeadyKey", charset="UTF-8"' };

/** RFC 6749 §2.3.1: the id and secret in Basic are form-urlencoded before base64. */
function parseBasic(header: string): { id: string; secret: string } | undefined {
  const match = /^Basic ([A-Za-z0-9+/]+=*)$/i.exec(header.trim());
  if (!match) return undefined;
  let decoded: string;
  try {
    decoded = atob(match[1]!);
  } catch {
    return undefined;
  }
  const colon = decoded.indexOf(":");
  if (colon < 0) return undefined;
  try {
    const unform = (part: string) => decodeURIComponent(part.replace(/\+/g, " "));
    return { id: unform(decoded.slice(0, colon)), secret: unform(decoded.slice(colon + 1)) };
  } catch {
    return undefined;
  }
}

/**
 * Authenticates the client of a back-channel request (RFC 6749 §2.3, OAuth 2.1 §2.4): exactly one
 * method, and the one the client registered. Every failure is the same `invalid_client` (401), with
 * a Basic challenge when Basic was tried (RFC 6749 §5.2), so nobody learns which part was wrong.
 */
export async function authenticateClient(
  request: ClientCredentials,
  findClient: (id: string) => Promise<OAuthClientRow | undefined>,
  checkAssertion: AssertionCheck,
): Promise<OAuthClientRow> {
  const basic = request.authorization?.toLowerCase().startsWith("basic ") ? request.authorization : undefined;
  const postedSecret = request.form.get("client_secret");
  const assertion = request.form.get("client_assertion");
  const methods = [basic, postedSecret, assertion].filter((value) => value !== null && value !== undefined).length;
  if (methods > 1) throw new OAuthError("invalid_request", "Use one client authentication method.");
  const failed = () => new OAuthError("invalid_client", "Client authentication failed.", basic ? BASIC_CHALLENGE : {});

  if (assertion !== null) return assertedClient(request.form, assertion, findClient, checkAssertion);

  const credentials = basic ? parseBasic(basic) : { id: request.form.get("client_id") ?? "", secret: postedSecret ?? undefined };
  if (!credentials?.id) throw failed();
  const bodyId = request.form.get("client_id");
  if (basic && bodyId !== null && bodyId !== credentials.id) throw failed();
  const client = await findClient(credentials.id);
  if (!client) throw failed();

  const method = basic ? "client_secret_basic" : postedSecret !== null ? "client_secret_post" : "none";
  if (client.tokenEndpointAuthMethod !== method) throw failed();
  if (method === "none") return client;
  if (!(await secretMatches(client, credentials.secret ?? ""))) throw failed();
  return client;
}

/** RFC 7523 §2.2: the client is whoever the assertion says it is (its `iss`), proven by its signature. */
async function assertedClient(
  form: URLSearchParams,
  assertion: string,
  findClient: (id: string) => Promise<OAuthClientRow | undefined>,
  checkAssertion: AssertionCheck,
): Promise<OAuthClientRow> {
  const failed = () => new OAuthError("invalid_client", "Client authentication failed.");
  if (form.get("client_assertion_type") !== JWT_BEARER_ASSERTION) throw failed();
  const id = assertionIssuer(assertion);
  if (!id) throw failed();
  const bodyId = form.get("client_id");
  if (bodyId !== null && bodyId !== id) throw failed();
  const client = await findClient(id);
  if (client?.tokenEndpointAuthMethod !== "private_key_jwt") throw failed();
  if (!(await checkAssertion(client, assertion))) throw failed();
  return client;
}
