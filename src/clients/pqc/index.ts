import { SingleFlight } from "../../platform/single-flight";
import { type BackoffOptions, fullJitterDelay } from "../mesh/backoff";

/**
 * `HeadyPQCClient`: for services that call PQC-protected endpoints. It asks HeadyKey for a PQC
 * token (or a reference to one) per service and operation with the caller's credential, caches it,
 * renews it at about 80 % of its life, shares one request among concurrent callers, and retries
 * 5xx and 429 (honouring `Retry-After`) with backoff and full jitter, never 401 or 403.
 *
 * @example
 * const pqc = new HeadyPQCClient({ baseUrl: "https://id.heady.systems", credential: process.env.HEADY_API_KEY });
 * const response = await pqc.fetch("headyme", "sync", "https://me.heady.systems/api/sync", { method: "POST" });
 */
export interface HeadyPQCClientOptions {
  /** HeadyKey's origin, e.g. `https://id.heady.systems`. */
  baseUrl: string;
  /** An access token or an `hdy_` API key (scope `pqc` or `pqc:<service>`), or a function giving the current one. */
  credential: string | (() => string | Promise<string>);
  /** Ask for 32-byte references instead of the 4.5 KB tokens (default false). */
  references?: boolean;
  /** The fraction of a token's life after which it is renewed (default 0.8). */
  renewAt?: number;
  /** Attempts per token request, the first included (default 4). */
  maxAttempts?: number;
  /** Backoff between attempts (default 200 ms base, 5 s cap), full jitter. */
  backoff?: BackoffOptions;
  /** The longest `Retry-After` honoured (default 30 s); a longer one fails at once. */
  maxRetryAfterMs?: number;
  fetch?: typeof fetch;
  /** Clock and timer, for tests. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/** A token request HeadyKey refused or could not serve; `status` 0 when it was never reached. */
export class HeadyPQCError extends Error {
  override name = "HeadyPQCError";
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

/** The header a PQC-protected endpoint reads the token or reference from. */
export const PQC_TOKEN_HEADER = "X-Heady-PQC-Token";

/** What `/api/auth/request-pqc-token` answers, success or error envelope; members checked before use. */
interface TokenAnswer {
  pqcToken?: unknown;
  reference?: unknown;
  expiresIn?: unknown;
  error?: { code?: unknown; message?: unknown };
}

interface Held {
  value: string;
  issuedAt: number;
  expiresAt: number;
}

const DEFAULTS = { renewAt: 0.8, maxAttempts: 4, backoff: { baseMs: 200, maxMs: 5000 }, maxRetryAfterMs: 30_000 };
/** An attempt unanswered for this long fails (and is retried like a network failure). */
const ATTEMPT_TIMEOUT_MS = 10_000;

/** `Retry-After` in milliseconds (delta-seconds or an HTTP date); undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now: number): number | undefined {
  if (header === null) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export class HeadyPQCClient {
  private readonly held = new Map<string, Held>();
  /**
   * One token request per key at a time, shared by its outcome, never by its promise: in a Worker a
   * fetch's promise belongs to the request that started it, and another request awaiting it fails
   * with "Promise will never complete." once that one is cancelled (src/platform/single-flight.ts).
   */
  private readonly inFlight: SingleFlight<Held>;
  private readonly options: Required<Omit<HeadyPQCClientOptions, "credential" | "baseUrl">> &
    Pick<HeadyPQCClientOptions, "credential" | "baseUrl">;

  constructor(options: HeadyPQCClientOptions) {
    if (!options.baseUrl) throw new TypeError("HeadyPQCClient: baseUrl is required");
    if (!options.credential) throw new TypeError("HeadyPQCClient: credential is required");
    const renewAt = options.renewAt ?? DEFAULTS.renewAt;
    if (!(renewAt > 0 && renewAt < 1)) throw new TypeError("HeadyPQCClient: renewAt must be between 0 and 1");
    this.options = {
      references: false,
      maxAttempts: DEFAULTS.maxAttempts,
      backoff: DEFAULTS.backoff,
      maxRetryAfterMs: DEFAULTS.maxRetryAfterMs,
      fetch: (input, init) => globalThis.fetch(input, init),
      now: () => Date.now(),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      random: Math.random,
      ...options,
      renewAt,
    };
    const { maxAttempts, backoff, maxRetryAfterMs } = this.options;
    // The longest a request can take: every attempt timing out, and the longest wait after each.
    const longestRequestMs = maxAttempts * (ATTEMPT_TIMEOUT_MS + Math.max(backoff.maxMs, maxRetryAfterMs));
    this.inFlight = new SingleFlight(longestRequestMs + 1000, () => this.options.now());
  }

  /**
   * A token (or reference) for `service`/`operation`: the cached one until 80 % of its life, then a
   * fresh one. If renewing fails while the cached one is still valid, the cached one is returned.
   */
  async token(service: string, operation: string): Promise<string> {
    const key = `${service}\u0000${operation}`;
    const now = this.options.now();
    const held = this.held.get(key);
    if (held && now < held.issuedAt + (held.expiresAt - held.issuedAt) * this.options.renewAt) return held.value;
    try {
      return (await this.request(key, service, operation)).value;
    } catch (error) {
      if (held && this.options.now() < held.expiresAt) return held.value;
      throw error;
    }
  }

  /** `fetch` with the PQC token for `service`/`operation` in `X-Heady-PQC-Token`. A 401 drops the cached token. */
  async fetch(service: string, operation: string, input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set(PQC_TOKEN_HEADER, await this.token(service, operation));
    const response = await this.options.fetch(input, { ...init, headers });
    if (response.status === 401) this.forget(service, operation);
    return response;
  }

  /** Drops the cached token for `service`/`operation`, so the next call asks for a new one. */
  forget(service: string, operation: string): void {
    this.held.delete(`${service}\u0000${operation}`);
  }

  /** One request per key at a time: concurrent callers share its outcome. */
  private request(key: string, service: string, operation: string): Promise<Held> {
    return this.inFlight.run(async () => {
      const held = await this.requestWithRetries(service, operation);
      this.held.set(key, held);
      return held;
    }, key);
  }

  private async requestWithRetries(service: string, operation: string): Promise<Held> {
    const { maxAttempts, backoff, maxRetryAfterMs, sleep, random, now } = this.options;
    for (let attempt = 0; ; attempt++) {
      let response: Response | undefined;
      let failure: HeadyPQCError;
      try {
        response = await this.requestOnce(service, operation);
      } catch (error) {
        failure = new HeadyPQCError(`HeadyKey could not be reached: ${String(error)}`, 0, undefined);
      }
      if (response) {
        const body = (await response.json().catch(() => undefined)) as TokenAnswer | undefined;
        if (response.ok) return this.heldFrom(body);
        const { code, message } = body?.error ?? {};
        failure = new HeadyPQCError(
          typeof message === "string" ? message : `HeadyKey answered ${response.status}`,
          response.status,
          typeof code === "string" ? code : undefined,
        );
        // 5xx and 429 are worth another attempt; any other refusal (401, 403, 400) is final.
        if (!(response.status >= 500 || response.status === 429)) throw failure;
      }
      if (attempt + 1 >= maxAttempts) throw failure!;
      const asked = response ? retryAfterMs(response.headers.get("Retry-After"), now()) : undefined;
      if (asked !== undefined && asked > maxRetryAfterMs) throw failure!;
      await sleep(Math.max(asked ?? 0, fullJitterDelay(attempt, backoff, random)));
    }
  }

  private async requestOnce(service: string, operation: string): Promise<Response> {
    const credential = typeof this.options.credential === "function" ? await this.options.credential() : this.options.credential;
    const headers = new Headers({ "Content-Type": "application/json", Accept: "application/json" });
    if (credential.startsWith("hdy_")) headers.set("X-API-Key", credential);
    else headers.set("Authorization", `Bearer ${credential}`);
    const body = JSON.stringify(this.options.references ? { service, operation, reference: true } : { service, operation });
    return this.options.fetch(new URL("/api/auth/request-pqc-token", this.options.baseUrl), {
      method: "POST",
      headers,
      body,
      signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
    });
  }

  private heldFrom(body: TokenAnswer | undefined): Held {
    const value = this.options.references ? body?.reference : body?.pqcToken;
    const expiresIn = body?.expiresIn;
    if (typeof value !== "string" || typeof expiresIn !== "number" || expiresIn <= 0) {
      throw new HeadyPQCError("HeadyKey answered 200 without a token and its lifetime", 200, undefined);
    }
    const issuedAt = this.options.now();
    return { value, issuedAt, expiresAt: issuedAt + expiresIn * 1000 };
  }
}
