/** The methods the Worker and its gateway answer, in the order an `Allow` header lists them. */
export const HTTP_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;

/** An `Allow` value (RFC 9110 §10.2.1): the methods in the usual order, with HEAD wherever GET is. */
export function allowHeader(methods: Iterable<string>): string {
  const set = new Set(methods);
  if (set.has("GET")) set.add("HEAD");
  return [...HTTP_METHODS.filter((method) => set.delete(method)), ...set].join(", ");
}
