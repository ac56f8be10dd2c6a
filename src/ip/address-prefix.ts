import { type Ipv4Address, isMulticast, parseIpv4, prefixMask } from '../wire/address.js';
import { errnoError } from './errors.js';

/** An address with its prefix length, e.g. 10.0.1.2/24. */
export interface AddressWithPrefix {
  readonly address: Ipv4Address;
  readonly prefixLength: number;
}

/** What API callers may pass for an address: dotted-quad text or the numeric form. */
export type AddressInput = string | Ipv4Address;

/** What API callers may pass for an address with prefix: 'a.b.c.d/n' or an object. */
export type PrefixInput = string | { address: AddressInput; prefixLength: number };

/** Parses an address given as text or number; throws EINVAL for anything else. */
export function toAddress(input: AddressInput, what = 'address'): Ipv4Address {
  if (typeof input === 'number') {
    if (Number.isInteger(input) && input >= 0 && input <= 0xffffffff) return input;
  } else {
    const parsed = parseIpv4(input);
    if (parsed !== undefined) return parsed;
  }
  throw errnoError('EINVAL', `invalid IPv4 ${what}: ${String(input)}`);
}

/** Parses 'a.b.c.d/n' (or the object form); throws EINVAL when either part is invalid. */
export function toPrefix(input: PrefixInput, what = 'address'): AddressWithPrefix {
  if (typeof input === 'string') {
    const slash = input.indexOf('/');
    if (slash < 0) throw errnoError('EINVAL', `${what} needs a prefix length, e.g. 10.0.0.1/24: ${input}`);
    const text = input.slice(slash + 1);
    const prefixLength = /^\d{1,2}$/.test(text) ? Number(text) : Number.NaN;
    return { address: toAddress(input.slice(0, slash), what), prefixLength: checkPrefixLength(prefixLength) };
  }
  return { address: toAddress(input.address, what), prefixLength: checkPrefixLength(input.prefixLength) };
}

function checkPrefixLength(n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > 32) throw errnoError('EINVAL', `invalid prefix length: ${n}`);
  return n;
}

/** The network address (host bits cleared). */
export function networkOf(address: Ipv4Address, prefixLength: number): Ipv4Address {
  return (address & prefixMask(prefixLength)) >>> 0;
}

/** The subnet's directed broadcast address (host bits set), RFC 919/922. */
export function directedBroadcastOf(address: Ipv4Address, prefixLength: number): Ipv4Address {
  return (address | ~prefixMask(prefixLength)) >>> 0;
}

/** 127.0.0.0/8: RFC 1122 §3.2.1.3(g) says such addresses never appear on a network. */
export function isLoopback(address: Ipv4Address): boolean {
  return address >>> 24 === 127;
}

/** 240.0.0.0/4, reserved (RFC 1122 §3.2.1.3(f)); 255.255.255.255 is in it. */
export function isClassE(address: Ipv4Address): boolean {
  return address >>> 28 === 0xf;
}

/**
 * True when `address` may be the source of a datagram we accept or the target of an ICMP error: it names
 * exactly one host (RFC 1122 §3.2.1.3, §3.2.2): not 0.0.0.0, broadcast, multicast, loopback or class E.
 */
export function isUnicastHostAddress(address: Ipv4Address): boolean {
  return address !== 0 && !isMulticast(address) && !isClassE(address) && !isLoopback(address);
}
