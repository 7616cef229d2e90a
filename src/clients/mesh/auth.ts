import type { MeshRole, TopicPermissions } from "../../mesh/permissions";

/**
 * The client side of SAGE: asks `POST /api/sage/token` for a node token and keeps it. Works in
 * browsers and in Node (global `fetch`). The credential is a `sage:bootstrap` API key, an
 * operator's access token, or a function that returns fresh headers (for rotating credentials).
 */
export type PulseCredential = { apiKey: string } | { bearer: string } | (() => Promise<Record<string, string>>);

export interface PulseAuthOptions {
  /** The Worker's base URL, e.g. `https://id.heady.systems`. */
  baseUrl: string;
  nodeId: string;
  role: MeshRole;
  credential: PulseCredential;
  /** Per-node changes to the role's topics (a bootstrap key may only send `deny`). */
  topics?: Partial<TopicPermissions>;
  /** Ask for shorter-lived tokens than the server's default. */
  ttlSeconds?: number;
  fetch?: typeof fetch;
}

/** A refusal from SAGE, with the API's stable error code. */
export class PulseAuthError extends Error {
  override name = "PulseAuthError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Holds one node's token: requests it from SAGE, and a fresh one when asked. */
export class PulseAuth {
  private token: string | undefined;
  private issuedAtMs: number | undefined;
  private expiresAtMs: number | undefined;

  constructor(private readonly options: PulseAuthOptions) {}

  /** Requests a new token from SAGE and keeps it. */
  async requestToken(): Promise<string> {
    const { baseUrl, nodeId, role, topics, ttlSeconds, credential } = this.options;
    const doFetch = this.options.fetch ?? fetch;
    const requestedAt = Date.now();
    const response = await doFetch(new URL("/api/sage/token", baseUrl).toString(), {
      method: "POST",
      headers: { "Content-Type": "application/json", ...(await credentialHeaders(credential)) },
      body: JSON.stringify({ node_id: nodeId, role, ...(topics ? { topics } : {}), ...(ttlSeconds ? { ttlSeconds } : {}) }),
    });
    const body = (await response.json().catch(() => ({}))) as {
      token?: string;
      expiresIn?: number;
      error?: { code?: string; message?: string };
    };
    if (!response.ok || typeof body.token !== "string" || typeof body.expiresIn !== "number") {
      throw new PulseAuthError(response.status, body.error?.code ?? "unknown", body.error?.message ?? `SAGE answered ${response.status}`);
    }
    this.token = body.token;
    // Measured from when the request left, so clock skew between client and server never matters.
    this.issuedAtMs = requestedAt;
    this.expiresAtMs = requestedAt + body.expiresIn * 1000;
    return body.token;
  }

  getToken(): string | undefined {
    return this.token;
  }

  /** When the current token expires (ms, this client's clock), if there is one. */
  expiresAt(): number | undefined {
    return this.expiresAtMs;
  }

  /** The current token's whole lifetime (ms), if there is one. */
  lifetimeMs(): number | undefined {
    return this.expiresAtMs === undefined || this.issuedAtMs === undefined ? undefined : this.expiresAtMs - this.issuedAtMs;
  }

  /** The current token, or a new one if there is none or it has less than `marginMs` left. */
  async freshToken(marginMs = 0): Promise<string> {
    if (this.token && this.expiresAtMs !== undefined && this.expiresAtMs - Date.now() > marginMs) return this.token;
    return this.requestToken();
  }
}

async function credentialHeaders(credential: PulseCredential): Promise<Record<string, string>> {
  if (typeof credential === "function") return credential();
  return "apiKey" in credential ? { "X-API-Key": credential.apiKey } : { Authorization: `Bearer ${credential.bearer}` };
}
