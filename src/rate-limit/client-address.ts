/**
 * The key per-IP limits count a client under, from its address (`CF-Connecting-IP`):
 * - IPv4 as is, in decimal without leading zeros;
 * - IPv4-mapped IPv6 (`::ffff:203.0.113.7`, `::ffff:cb00:7107`) as that IPv4 address;
 * - any other IPv6 address as its /64 (`2001:db8:0:1::/64`), fully normalised (brackets and zone
 *   dropped, `::` expanded, hex lower-cased, leading zeros dropped), because one subscriber
 *   usually holds a whole /64 and could otherwise take a fresh address for every attempt;
 * - anything else as one shared `invalid` key (Cloudflare always sends an address; a request
 *   without one is `unknown`), so that no header value of any length becomes a key.
 */
export function addressKey(address: string | undefined): string {
  if (address === undefined) return "unknown";
  if (address.length > MAX_ADDRESS_LENGTH) return INVALID;
  const ipv4 = parseIpv4(address);
  if (ipv4) return ipv4.join(".");
  const groups = parseIpv6(address);
  if (!groups) return INVALID;
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    return [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join(".");
  }
  return `${groups
    .slice(0, 4)
    .map((group) => group.toString(16))
    .join(":")}::/64`;
}

/**
 * The network an address is in, for showing people where a session came from without showing the
 * address itself: IPv4 by its /24, IPv6 by its /48. Undefined when the address does not parse.
 */
export function addressPrefix(address: string | undefined): string | undefined {
  if (address === undefined || address.length > MAX_ADDRESS_LENGTH) return undefined;
  const key = addressKey(address);
  const ipv4 = parseIpv4(key);
  if (ipv4) return `${ipv4.slice(0, 3).join(".")}.0/24`;
  const groups = parseIpv6(address);
  return groups
    ? `${groups
        .slice(0, 3)
        .map((group) => group.toString(16))
        .join(":")}::/48`
    : undefined;
}

const INVALID = "invalid";
/** The longest IPv6 spelling (an IPv4 tail, brackets) with room for a zone id. */
const MAX_ADDRESS_LENGTH = 64;
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const HEX_GROUP = /^[0-9a-f]{1,4}$/;

/** The four octets of a dotted-quad IPv4 address, or undefined. */
function parseIpv4(text: string): number[] | undefined {
  const match = IPV4.exec(text);
  if (!match) return undefined;
  const octets = match.slice(1).map(Number);
  return octets.every((octet) => octet <= 255) ? octets : undefined;
}

/** The eight 16-bit groups of an IPv6 address in any RFC 4291 spelling, or undefined. */
function parseIpv6(text: string): number[] | undefined {
  let address = text.toLowerCase();
  if (address.startsWith("[") && address.endsWith("]")) address = address.slice(1, -1);
  const zone = address.indexOf("%");
  if (zone !== -1) address = address.slice(0, zone);

  const halves = address.split("::");
  if (halves.length > 2) return undefined;
  const head = groupsOf(halves[0]!);
  const tail = halves.length === 2 ? groupsOf(halves[1]!) : [];
  if (!head || !tail) return undefined;
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  // `::` stands for at least one group of zeros.
  const missing = 8 - head.length - tail.length;
  return missing >= 1 ? [...head, ...Array<number>(missing).fill(0), ...tail] : undefined;
}

/** The groups of one side of `::` (possibly empty), the last of which may be a dotted IPv4 tail. */
function groupsOf(side: string): number[] | undefined {
  if (side === "") return [];
  const parts = side.split(":");
  const groups: number[] = [];
  for (const [index, part] of parts.entries()) {
    const ipv4 = index === parts.length - 1 ? parseIpv4(part) : undefined;
    if (ipv4) groups.push((ipv4[0]! << 8) | ipv4[1]!, (ipv4[2]! << 8) | ipv4[3]!);
    else if (HEX_GROUP.test(part)) groups.push(parseInt(part, 16));
    else return undefined;
  }
  return groups;
}
