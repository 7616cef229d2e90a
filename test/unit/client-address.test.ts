import { describe, expect, it } from "vitest";
import { addressKey } from "../../src/rate-limit/client-address";

describe("addressKey: what per-IP limits count under", () => {
  it.each([
    ["203.0.113.7", "203.0.113.7"],
    ["0.0.0.0", "0.0.0.0"],
    ["255.255.255.255", "255.255.255.255"],
    // One address, one key: leading zeros are a spelling, not another address.
    ["203.000.113.007", "203.0.113.7"],
  ])("IPv4 %s is itself: %s", (address, key) => {
    expect(addressKey(address)).toBe(key);
  });

  it.each([
    ["::ffff:203.0.113.7"],
    ["::FFFF:203.0.113.7"],
    ["0:0:0:0:0:ffff:203.0.113.7"],
    ["::ffff:cb00:7107"],
    ["0000:0000:0000:0000:0000:FFFF:CB00:7107"],
    ["[::ffff:203.0.113.7]"],
  ])("IPv4-mapped IPv6 %s is the IPv4 address", (address) => {
    expect(addressKey(address)).toBe("203.0.113.7");
  });

  it("every spelling of one IPv6 address is one key, and it is the /64", () => {
    const spellings = [
      "2001:db8:0:1::1",
      "2001:DB8:0:1::1",
      "2001:0db8:0000:0001:0000:0000:0000:0001",
      "2001:db8::1:0:0:0:1",
      "2001:db8:0:1:0:0:0:1",
      "[2001:db8:0:1::1]",
      "2001:db8:0:1::1%eth0",
      "2001:db8:0:1::0.0.0.1",
    ];
    expect(new Set(spellings.map(addressKey))).toEqual(new Set(["2001:db8:0:1::/64"]));
  });

  it("addresses in one /64 share a key; the next /64 does not", () => {
    expect(addressKey("2001:db8:0:1:ffff:ffff:ffff:ffff")).toBe("2001:db8:0:1::/64");
    expect(addressKey("2001:db8:0:1:1234:5678:9abc:def0")).toBe("2001:db8:0:1::/64");
    expect(addressKey("2001:db8:0:2::1")).toBe("2001:db8:0:2::/64");
    expect(addressKey("::1")).toBe("0:0:0:0::/64");
    expect(addressKey("::")).toBe("0:0:0:0::/64");
    expect(addressKey("fe80::1%25eth0")).toBe("fe80:0:0:0::/64");
  });

  it.each([
    ["1.2.3"],
    ["1.2.3.256"],
    ["1.2.3.4.5"],
    ["2001:db8::1::2"],
    ["2001:db8:0:0:0:0:0:0:1"],
    ["2001:db8:0:0:0:0:0::1"],
    ["12345::1"],
    ["2001:db8::g"],
    [":2001:db8::1"],
    ["2001:db8::1:"],
    ["::ffff:1.2.3.4.5"],
    ["not an address"],
    [""],
    ["1".repeat(5000)],
  ])("anything that is no address (%s) shares one bounded key", (address) => {
    expect(addressKey(address)).toBe("invalid");
  });

  it("no address at all is its own key", () => {
    expect(addressKey(undefined)).toBe("unknown");
  });
});
