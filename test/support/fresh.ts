// No Worker imports here: the e2e tests (Node) take their fresh values from this module as well.

/** A fresh address per call: lower-case, valid, and with a local part no password will contain by accident. */
export function uniqueEmail(tag = "user"): string {
  return `${tag}-${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}@example.test`;
}

/** A random address in 10.0.0.0/8, so that per-IP rate limits of one test never touch another. */
export function randomIp(): string {
  const [a, b, c] = crypto.getRandomValues(new Uint8Array(3));
  return `10.${a}.${b}.${c}`;
}

/** A password that passes the policy: long, random, not common, unrelated to any email. */
export function strongPassword(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(9));
  return `orbit-${[...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("")}-lantern`;
}
