/**
 * `net.BlockList`: rules (single addresses, inclusive ranges, subnets) of IPv4 and IPv6 addresses that
 * `check()` tests an address against; servers drop connections from a listed peer and sockets refuse to
 * connect to a listed address (the `blockList` option Node 22 added).
 *
 * Both families live in one 128-bit space, IPv4 as IPv4-mapped IPv6 (::ffff:a.b.c.d, RFC 4291 §2.5.5.2),
 * so that — as in Node — an IPv4 rule matches the IPv4-mapped form of its addresses and an IPv6 rule over
 * ::ffff:0:0/96 matches plain IPv4 addresses. Arguments are validated in Node's order with Node's errors.
 */
import { inspect } from 'node:util';
import type { Ipv6Address } from '../../wire/ipv6-address.js';
import { invalidArgValue, validateInt32, validateString } from '../node-errors.js';
import { SocketAddress, socketAddressValue } from './socket-address.js';

interface Rule {
  /** How `rules` lists it: 'Address: IPv4 10.0.0.1', 'Range: ...', 'Subnet: ...'. */
  readonly text: string;
  matches(value: Ipv6Address): boolean;
}

const FAMILY_NAMES = { ipv4: 'IPv4', ipv6: 'IPv6' } as const;
const ALL_BITS = (1n << 128n) - 1n;

export class BlockList {
  /** Newest first, as Node lists them. */
  readonly #rules: Rule[] = [];

  /** Blocks one address (text of `family`, default 'ipv4', or a SocketAddress). */
  addAddress(address: string | SocketAddress, family = 'ipv4'): void {
    const socketAddress = toSocketAddress(address, family, 'address');
    const value = socketAddressValue(socketAddress);
    this.#rules.unshift({
      text: `Address: ${FAMILY_NAMES[socketAddress.family]} ${socketAddress.address}`,
      matches: (candidate) => candidate === value,
    });
  }

  /** Blocks every address from `start` to `end` inclusive; `start` must not come after `end`. */
  addRange(start: string | SocketAddress, end: string | SocketAddress, family = 'ipv4'): void {
    const first = toSocketAddress(start, family, 'start');
    const last = toSocketAddress(end, family, 'end');
    const low = socketAddressValue(first);
    const high = socketAddressValue(last);
    // Node compares within a family; a range across families is accepted as given.
    if (first.family === last.family && low > high) {
      throw invalidArgValue('start', first, 'must come before end');
    }
    this.#rules.unshift({
      text: `Range: ${FAMILY_NAMES[first.family]} ${first.address}-${last.address}`,
      matches: (candidate) => candidate >= low && candidate <= high,
    });
  }

  /** Blocks the `prefix`-bit network of `network` (0-32 for IPv4, 0-128 for IPv6). */
  addSubnet(network: string | SocketAddress, prefix: number, family = 'ipv4'): void {
    const base = toSocketAddress(network, family, 'network');
    const ipv4 = base.family === 'ipv4';
    validateInt32(prefix, 'prefix', 0, ipv4 ? 32 : 128);
    // An IPv4 prefix counts from the end of the mapped block's 96 bits.
    const bits = BigInt(ipv4 ? 96 + prefix : prefix);
    const mask = bits === 0n ? 0n : (ALL_BITS << (128n - bits)) & ALL_BITS;
    const masked = socketAddressValue(base) & mask;
    this.#rules.unshift({
      text: `Subnet: ${FAMILY_NAMES[base.family]} ${base.address}/${prefix}`,
      matches: (candidate) => (candidate & mask) === masked,
    });
  }

  /** Whether a rule covers `address`; text that is not an address of `family` is not blocked. */
  check(address: string | SocketAddress, family = 'ipv4'): boolean {
    let socketAddress: SocketAddress;
    if (address instanceof SocketAddress) {
      socketAddress = address;
    } else {
      validateString(address, 'address');
      validateString(family, 'family');
      try {
        socketAddress = new SocketAddress({ address, family });
      } catch {
        return false;
      }
    }
    const value = socketAddressValue(socketAddress);
    return this.#rules.some((rule) => rule.matches(value));
  }

  /** The rules as text, newest first. */
  get rules(): string[] {
    return this.#rules.map((rule) => rule.text);
  }

  /** Printed as Node prints it: `BlockList { rules: [...] }`. */
  [Symbol.for('nodejs.util.inspect.custom')](depth: number, options: { depth?: number | null }): unknown {
    if (depth < 0) return '[BlockList]';
    const nested = { ...options, depth: options.depth == null ? null : options.depth - 1 };
    return `BlockList ${inspect({ rules: this.rules }, nested)}`;
  }

  /** Node 22's brand check. */
  static isBlockList(value: unknown): value is BlockList {
    return value instanceof BlockList;
  }
}

/**
 * A `check(address, family)`-capable list: tcpts's own, or one from elsewhere (Node's `net.BlockList`
 * passed to a tcpts socket) — what the `blockList` options accept.
 */
export interface AddressChecker {
  check(address: string, family?: string): boolean;
}

export function isAddressChecker(value: unknown): value is AddressChecker {
  return (
    value !== null && typeof value === 'object' && typeof (value as { check?: unknown }).check === 'function'
  );
}

function toSocketAddress(value: string | SocketAddress, family: unknown, name: string): SocketAddress {
  if (value instanceof SocketAddress) return value;
  validateString(value, name);
  validateString(family, 'family');
  return new SocketAddress({ address: value, family });
}
