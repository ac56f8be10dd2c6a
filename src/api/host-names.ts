/**
 * Host names for the socket APIs. tcpts has no DNS resolver of its own: a host is an IP literal,
 * 'localhost' (the stack's 127.0.0.1), a name from a table the application supplies, or whatever a
 * user-supplied resolver answers. This module is browser-safe; the Node socket APIs resolve through
 * `stackLookup` (lookup-node.ts), one function with `dns.lookup`'s signature and behaviour, so a DNS
 * client plugged in later is one more `LookupFunction`.
 */
import { type Ipv4Address, ipv4ToString, parseIpv4 } from '../wire/address.js';
import {
  type IpAddress,
  ipv4FromMapped,
  ipv6ToString,
  isIpv4MappedIpv6,
  parseIpv6,
} from '../wire/ipv6-address.js';

/** One answer of a lookup: an address and its family (4 or 6). */
export interface LookupAddress {
  address: string;
  family: number;
}

/** The options a lookup function receives (dns.lookup's): family 0/4/6, getaddrinfo hints, all answers. */
export interface LookupOptions {
  family?: number | 'IPv4' | 'IPv6';
  hints?: number;
  all?: boolean;
}

/**
 * Node's `lookup` option signature (dns.lookup): calls back `(error, address, family)`, or
 * `(error, [{ address, family }, ...])` when asked for `all`.
 */
export type LookupFunction = (
  hostname: string,
  options: LookupOptions,
  callback: (
    error: (Error & { code?: string }) | null,
    address: string | readonly LookupAddress[] | undefined,
    family?: number,
  ) => void,
) => void;

/** Names the API resolves by itself, besides IP literals. */
export type HostTable = Readonly<Record<string, string>>;

/** The address of an IPv4 literal, 'localhost' or a name in `hosts`; undefined when unknown. */
export function resolveHostName(host: string, hosts: HostTable | undefined): Ipv4Address | undefined {
  const literal = parseIpv4(host);
  if (literal !== undefined) return literal;
  const mapped = hosts?.[host] ?? (host.toLowerCase() === 'localhost' ? '127.0.0.1' : undefined);
  return mapped === undefined ? undefined : parseIpv4(mapped);
}

/**
 * Every address the stack itself knows for `host`, in the order getaddrinfo gives them on Linux: an IP
 * literal of either version as itself (canonical text), 'localhost' as ::1 then 127.0.0.1 (glibc with
 * the usual /etc/hosts, and Node 20's verbatim order), a name in `hosts` as its address. Empty when the
 * stack does not know the name.
 */
export function resolveHostNames(host: string, hosts: HostTable | undefined): LookupAddress[] {
  const literal = literalAddress(host);
  if (literal !== undefined) return [literal];
  const mapped = hosts?.[host];
  if (mapped !== undefined) {
    const address = literalAddress(mapped);
    return address === undefined ? [] : [address];
  }
  if (host.toLowerCase() === 'localhost') {
    return [
      { address: '::1', family: 6 },
      { address: '127.0.0.1', family: 4 },
    ];
  }
  return [];
}

function literalAddress(text: string): LookupAddress | undefined {
  const v4 = parseIpv4(text);
  if (v4 !== undefined) return { address: ipv4ToString(v4), family: 4 };
  const v6 = text.includes(':') ? parseIpv6(text) : undefined;
  if (v6 !== undefined) return { address: ipv6ToString(v6), family: 6 };
  return undefined;
}

/**
 * The address `host` stands for, as the TCP layer takes it: an IPv4 literal, 'localhost' (127.0.0.1) or a
 * name in `hosts` as the IPv4 number `resolveHostName` gives, else an IPv6 literal (or a name in `hosts`
 * mapped to one) as a bigint — an IPv4-mapped one as the IPv4 number it maps. Undefined when unknown.
 */
export function resolveHostAddress(host: string, hosts: HostTable | undefined): IpAddress | undefined {
  const v4 = resolveHostName(host, hosts);
  if (v4 !== undefined) return v4;
  const text = hosts?.[host] ?? host;
  const v6 = text.includes(':') ? parseIpv6(text) : undefined;
  if (v6 === undefined) return undefined;
  return isIpv4MappedIpv6(v6) ? ipv4FromMapped(v6) : v6;
}

/** True for a dotted-quad IPv4 literal. */
export function isIpv4Literal(text: string): boolean {
  return parseIpv4(text) !== undefined;
}
