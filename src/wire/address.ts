/**
 * Addresses as plain numbers so they can be compared with `===`, used as Map keys and copied for free.
 * - An IPv4 address is an unsigned 32-bit integer (network order read as big-endian).
 * - A MAC address is an unsigned 48-bit integer, which a JavaScript number holds exactly.
 */

export type Ipv4Address = number;
export type MacAddress = number;

export const IPV4_ANY: Ipv4Address = 0;
export const IPV4_BROADCAST: Ipv4Address = 0xffffffff;
export const MAC_BROADCAST: MacAddress = 0xffff_ffff_ffff;
export const MAC_ZERO: MacAddress = 0;

const IPV4_TEXT = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** Parses dotted-quad text; returns undefined for anything that is not exactly four octets 0-255. */
export function parseIpv4(text: string): Ipv4Address | undefined {
  const m = IPV4_TEXT.exec(text);
  if (!m) return undefined;
  let value = 0;
  for (let i = 1; i <= 4; i++) {
    const octet = Number(m[i]);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

export function ipv4ToString(addr: Ipv4Address): string {
  return `${addr >>> 24}.${(addr >>> 16) & 0xff}.${(addr >>> 8) & 0xff}.${addr & 0xff}`;
}

export function readIpv4(buf: Uint8Array, offset: number): Ipv4Address {
  return ((buf[offset]! << 24) | (buf[offset + 1]! << 16) | (buf[offset + 2]! << 8) | buf[offset + 3]!) >>> 0;
}

export function writeIpv4(buf: Uint8Array, offset: number, addr: Ipv4Address): void {
  buf[offset] = addr >>> 24;
  buf[offset + 1] = addr >>> 16;
  buf[offset + 2] = addr >>> 8;
  buf[offset + 3] = addr;
}

/** Network mask for a prefix length 0-32, e.g. 24 -> 0xffffff00. */
export function prefixMask(prefixLength: number): number {
  return prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
}

/** RFC 1112 class D (224.0.0.0/4). */
export function isMulticast(addr: Ipv4Address): boolean {
  return addr >>> 28 === 0xe;
}

const MAC_TEXT = /^([0-9a-fA-F]{2})(?::([0-9a-fA-F]{2})){5}$/;

export function parseMac(text: string): MacAddress | undefined {
  if (!MAC_TEXT.test(text)) return undefined;
  return Number.parseInt(text.replaceAll(':', ''), 16);
}

export function macToString(mac: MacAddress): string {
  return mac
    .toString(16)
    .padStart(12, '0')
    .replace(/(..)(?!$)/g, '$1:');
}

export function readMac(buf: Uint8Array, offset: number): MacAddress {
  const hi = (buf[offset]! << 8) | buf[offset + 1]!;
  const lo =
    ((buf[offset + 2]! << 24) | (buf[offset + 3]! << 16) | (buf[offset + 4]! << 8) | buf[offset + 5]!) >>> 0;
  return hi * 0x1_0000_0000 + lo;
}

export function writeMac(buf: Uint8Array, offset: number, mac: MacAddress): void {
  const hi = Math.floor(mac / 0x1_0000_0000);
  const lo = mac >>> 0;
  buf[offset] = hi >>> 8;
  buf[offset + 1] = hi;
  buf[offset + 2] = lo >>> 24;
  buf[offset + 3] = lo >>> 16;
  buf[offset + 4] = lo >>> 8;
  buf[offset + 5] = lo;
}

/** Multicast bit (I/G) of the first octet: set for group addresses, including broadcast. */
export function isGroupMac(mac: MacAddress): boolean {
  return Math.floor(mac / 0x100_0000_0000) % 2 === 1;
}
