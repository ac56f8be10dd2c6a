/**
 * IPv6 addresses (RFC 4291) as `bigint`: 128 bits compared with `===`, usable as Map keys and told apart
 * from an IPv4 address (a `number`) by `typeof`, so code that serves both versions can take an `IpAddress`.
 *
 * Text forms: any RFC 4291 §2.2 form is read (`::` compression, an embedded dotted quad in the last 32
 * bits); text is written in RFC 5952's canonical form (lower case, longest run of two or more zero groups
 * compressed, the first on a tie, `::ffff:a.b.c.d` for IPv4-mapped addresses).
 */

import { type Ipv4Address, ipv4ToString, type MacAddress } from './address.js';

export type Ipv6Address = bigint;
/** An address of either version: a `number` is IPv4, a `bigint` IPv6. */
export type IpAddress = Ipv4Address | Ipv6Address;

export const IPV6_ANY: Ipv6Address = 0n;
export const IPV6_LOOPBACK: Ipv6Address = 1n;
/** ff02::1, all nodes on the link (RFC 4291 §2.7.1). */
export const IPV6_ALL_NODES: Ipv6Address = 0xff02_0000_0000_0000_0000_0000_0000_0001n;
/** ff02::2, all routers on the link. */
export const IPV6_ALL_ROUTERS: Ipv6Address = 0xff02_0000_0000_0000_0000_0000_0000_0002n;
/** ff02::16, where MLDv2 reports go (RFC 3810 §5.2.14). */
export const IPV6_ALL_MLDV2_ROUTERS: Ipv6Address = 0xff02_0000_0000_0000_0000_0000_0000_0016n;
/** fe80::/10 as a 128-bit prefix value. */
export const IPV6_LINK_LOCAL_PREFIX: Ipv6Address = 0xfe80n << 112n;

const MASK_128 = (1n << 128n) - 1n;
const MASK_64 = (1n << 64n) - 1n;

export function isIpv6(addr: IpAddress): addr is Ipv6Address {
  return typeof addr === 'bigint';
}

/** Parses RFC 4291 §2.2 text (no zone, no prefix length); undefined when it is not an IPv6 address. */
export function parseIpv6(text: string): Ipv6Address | undefined {
  if (text.length < 2 || text.length > 45) return undefined;
  let body = text;
  let tail: number[] = [];
  const lastColon = body.lastIndexOf(':');
  if (body.includes('.', lastColon)) {
    // An embedded IPv4 address fills the last two groups (RFC 4291 §2.2 form 3).
    const quad = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(body.slice(lastColon + 1));
    if (!quad) return undefined;
    const octets = quad.slice(1).map(Number);
    if (octets.some((o) => o > 255)) return undefined;
    tail = [(octets[0]! << 8) | octets[1]!, (octets[2]! << 8) | octets[3]!];
    // Keep a `::` that ends right before the quad; drop the single colon that separates it otherwise.
    body = body.slice(0, lastColon + 1);
    if (!body.endsWith('::')) body = body.slice(0, -1);
  }
  const halves = body.split('::');
  if (halves.length > 2) return undefined;
  const parseGroups = (part: string): number[] | undefined => {
    if (part === '') return [];
    const groups: number[] = [];
    for (const group of part.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return undefined;
      groups.push(Number.parseInt(group, 16));
    }
    return groups;
  };
  const head = parseGroups(halves[0]!);
  const rest = halves.length === 2 ? parseGroups(halves[1]!) : [];
  if (!head || !rest) return undefined;
  const known = head.length + rest.length + tail.length;
  let groups: number[];
  if (halves.length === 2) {
    if (known > 7) return undefined; // `::` stands for at least one group
    groups = [...head, ...new Array<number>(8 - known).fill(0), ...rest, ...tail];
  } else {
    if (known !== 8) return undefined;
    groups = [...head, ...tail];
  }
  let value = 0n;
  for (const group of groups) value = (value << 16n) | BigInt(group);
  return value;
}

/** The eight 16-bit groups, most significant first. */
export function ipv6Groups(addr: Ipv6Address): number[] {
  const groups: number[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(Number((addr >> shift) & 0xffffn));
  return groups;
}

/** RFC 5952 canonical text. */
export function ipv6ToString(addr: Ipv6Address): string {
  if (isIpv4MappedIpv6(addr)) {
    const v4 = Number(addr & 0xffff_ffffn);
    return `::ffff:${v4 >>> 24}.${(v4 >>> 16) & 0xff}.${(v4 >>> 8) & 0xff}.${v4 & 0xff}`;
  }
  const groups = ipv6Groups(addr);
  // RFC 5952 §4.2: compress the longest run of at least two zero groups, the first one on a tie.
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

export function readIpv6(buf: Uint8Array, offset: number): Ipv6Address {
  let hi = 0n;
  let lo = 0n;
  for (let i = 0; i < 8; i += 2) {
    hi = (hi << 16n) | BigInt((buf[offset + i]! << 8) | buf[offset + i + 1]!);
    lo = (lo << 16n) | BigInt((buf[offset + 8 + i]! << 8) | buf[offset + 9 + i]!);
  }
  return (hi << 64n) | lo;
}

export function writeIpv6(buf: Uint8Array, offset: number, addr: Ipv6Address): void {
  let value = addr;
  for (let i = 15; i >= 0; i--) {
    buf[offset + i] = Number(value & 0xffn);
    value >>= 8n;
  }
}

/** The 16 bytes of an address. */
export function ipv6Bytes(addr: Ipv6Address): Uint8Array {
  const bytes = new Uint8Array(16);
  writeIpv6(bytes, 0, addr);
  return bytes;
}

/** Mask of the first `prefixLength` bits (0-128). */
export function ipv6PrefixMask(prefixLength: number): Ipv6Address {
  return prefixLength === 0 ? 0n : (MASK_128 << BigInt(128 - prefixLength)) & MASK_128;
}

/** True when the first `prefixLength` bits of `addr` equal those of `prefix`. */
export function ipv6InPrefix(addr: Ipv6Address, prefix: Ipv6Address, prefixLength: number): boolean {
  const mask = ipv6PrefixMask(prefixLength);
  return (addr & mask) === (prefix & mask);
}

/** ff00::/8 (RFC 4291 §2.7). */
export function isIpv6Multicast(addr: Ipv6Address): boolean {
  return addr >> 120n === 0xffn;
}

/** fe80::/10 (RFC 4291 §2.5.6). */
export function isIpv6LinkLocal(addr: Ipv6Address): boolean {
  return addr >> 118n === 0x3fan;
}

/** ::ffff:0:0/96 (RFC 4291 §2.5.5.2). */
export function isIpv4MappedIpv6(addr: Ipv6Address): boolean {
  return addr >> 32n === 0xffffn;
}

export function ipv4MappedIpv6(addr: Ipv4Address): Ipv6Address {
  return (0xffffn << 32n) | BigInt(addr >>> 0);
}

/** The IPv4 address inside an IPv4-mapped IPv6 address. */
export function ipv4FromMapped(addr: Ipv6Address): Ipv4Address {
  return Number(addr & 0xffff_ffffn);
}

/** Multicast scope (RFC 4291 §2.7): 1 interface-local, 2 link-local, 5 site-local, 0xe global. */
export function ipv6MulticastScope(addr: Ipv6Address): number {
  return Number((addr >> 112n) & 0xfn);
}

/** ff02::1:ffXX:XXXX for an address's low 24 bits (RFC 4291 §2.7.1). */
export function solicitedNodeAddress(addr: Ipv6Address): Ipv6Address {
  return (0xff02_0000_0000_0000_0000_0001_ff00_0000n | (addr & 0xff_ffffn)) & MASK_128;
}

/** 33:33 followed by the group's low 32 bits (RFC 2464 §7). */
export function ipv6MulticastMac(group: Ipv6Address): MacAddress {
  return 0x3333_0000_0000 + Number(group & 0xffff_ffffn);
}

/** Modified EUI-64 interface identifier of a MAC address (RFC 4291 appendix A): U/L bit flipped. */
export function eui64InterfaceId(mac: MacAddress): bigint {
  const m = BigInt(mac);
  const upper = (m >> 24n) ^ 0x02_0000n;
  const lower = m & 0xff_ffffn;
  return (upper << 40n) | (0xfffen << 24n) | lower;
}

/** A prefix's first 64 bits joined with a 64-bit interface identifier. */
export function ipv6WithInterfaceId(prefix: Ipv6Address, interfaceId: bigint): Ipv6Address {
  return (prefix & ~MASK_64 & MASK_128) | (interfaceId & MASK_64);
}

/** fe80::/64 with the given interface identifier. */
export function linkLocalAddress(interfaceId: bigint): Ipv6Address {
  return ipv6WithInterfaceId(IPV6_LINK_LOCAL_PREFIX, interfaceId);
}

/** Text of an address of either version: dotted quad for IPv4, RFC 5952 for IPv6. */
/** A loopback address of either version: 127.0.0.0/8 (RFC 1122 §3.2.1.3(g)) or ::1 (RFC 4291 §2.5.3). */
export function isLoopbackIp(addr: IpAddress): boolean {
  return typeof addr === 'bigint' ? addr === IPV6_LOOPBACK : addr >>> 24 === 127;
}

export function ipAddressToString(addr: IpAddress): string {
  return typeof addr === 'bigint' ? ipv6ToString(addr) : ipv4ToString(addr);
}

/**
 * Writes `addr` at `buf[offset]` as it appears in a header (4 bytes for IPv4, 16 for IPv6) and returns
 * how many bytes it took: keyed hashes over addresses (ISNs, ports, cookies) take either version.
 */
export function writeIpAddress(buf: Uint8Array, offset: number, addr: IpAddress): number {
  if (typeof addr === 'bigint') {
    writeIpv6(buf, offset, addr);
    return 16;
  }
  buf[offset] = addr >>> 24;
  buf[offset + 1] = addr >>> 16;
  buf[offset + 2] = addr >>> 8;
  buf[offset + 3] = addr;
  return 4;
}
