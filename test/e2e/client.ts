import { inject } from "vitest";

/** A tiny JSON client for the Worker under `wrangler dev`. */
export const baseUrl = () => inject("baseUrl");

export async function call(
  method: string,
  path: string,
  options: { body?: unknown; token?: string; headers?: Record<string, string>; baseUrl?: string } = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  // A fresh client address per call (wrangler dev passes CF-Connecting-IP through), so the per-IP
  // rate limits of one test never spill into another; tests that exercise a limit set their own.
  const headers: Record<string, string> = { "CF-Connecting-IP": randomIp(), ...options.headers };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  const response = await fetch(`${options.baseUrl ?? baseUrl()}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null, headers: response.headers };
}

export function uniqueEmail(label: string): string {
  return `${label}-${crypto.randomUUID().slice(0, 8)}@e2e.heady.test`;
}

/** A random address in 10.0.0.0/8. */
export function randomIp(): string {
  const [a, b, c] = crypto.getRandomValues(new Uint8Array(3));
  return `10.${a}.${b}.${c}`;
}
