/**
 * RFC 8785 JSON Canonicalization Scheme for the values audit events hold: objects with keys
 * sorted by UTF-16 code units, no whitespace, ECMAScript string and number serialisation
 * (which is what RFC 8785 specifies). A value with a `toJSON` method (a `Date`) is replaced by
 * what it returns, exactly as JSON.stringify does, so an event hashes the same before and after
 * the JSON round trip of storage. Anything else JSON cannot hold faithfully is refused: non-finite
 * numbers, undefined inside arrays, and objects that are not plain (a Map, a class instance),
 * which JSON.stringify would silently turn into `{}`. Undefined object members are dropped, as
 * JSON.stringify does.
 */
export function canonicalJson(value: unknown): string {
  return canonicalMember(value, "");
}

function hasToJson(value: object): value is { toJSON(key: string): unknown } {
  return typeof (value as { toJSON?: unknown }).toJSON === "function";
}

function isPlainObject(value: object): boolean {
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

/** `key` is what JSON.stringify passes to `toJSON`: the member name, the array index, or "" at the top. */
function canonicalMember(value: unknown, key: string): string {
  if (typeof value === "object" && value !== null && hasToJson(value)) value = value.toJSON(key);
  if (value === null || typeof value === "boolean" || typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new TypeError("canonical JSON cannot hold a non-finite number");
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    return `[${value
      .map((item, index) => {
        if (item === undefined) throw new TypeError("canonical JSON cannot hold undefined in an array");
        return canonicalMember(item, String(index));
      })
      .join(",")}]`;
  }
  if (typeof value === "object" && value !== null) {
    if (!isPlainObject(value)) throw new TypeError(`canonical JSON cannot hold a ${value.constructor?.name ?? "non-plain object"}`);
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, member]) => member !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([name, member]) => `${JSON.stringify(name)}:${canonicalMember(member, name)}`).join(",")}}`;
  }
  throw new TypeError(`canonical JSON cannot hold a ${typeof value}`);
}
