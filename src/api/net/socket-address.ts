/**
 * `net.SocketAddress`: an address, port, family and IPv6 flow label, validated and normalised as Node's
 * (which hands the text to inet_pton: a strict dotted quad for 'ipv4', any RFC 4291 §2.2 form for
 * 'ipv6', written back in RFC 5952's canonical form, a %zone dropped). `SocketAddress.parse` is Node 22's.
 */
import { inspect } from 'node:util';
import { parseIpv4 } from '../../wire/address.js';
import { type Ipv6Address, ipv6ToString, parseIpv6 } from '../../wire/ipv6-address.js';
import {
  invalidArgValue,
  nodeError,
  validateObject,
  validatePort,
  validateString,
  validateUint32,
} from '../node-errors.js';
import { isIPv4, isIPv6 } from './is-ip.js';

export type SocketAddressFamily = 'ipv4' | 'ipv6';

export interface SocketAddressInit {
  address?: string;
  port?: number;
  family?: string;
  flowlabel?: number;
}

/** IPv4 addresses sit in the IPv4-mapped block ::ffff:0:0/96 (RFC 4291 §2.5.5.2) of one 128-bit space. */
export const IPV4_MAPPED_PREFIX = 0xffff_0000_0000n;

const VALUE = Symbol('socketAddressValue');

export class SocketAddress {
  readonly #address: string;
  readonly #port: number;
  readonly #family: SocketAddressFamily;
  readonly #flowlabel: number;
  /** The address as a 128-bit number (IPv4 mapped), for BlockList. */
  readonly [VALUE]: Ipv6Address;

  constructor(options: SocketAddressInit = {}) {
    validateObject(options, 'options');
    const given: unknown = options.family ?? 'ipv4';
    const { address = given === 'ipv4' ? '127.0.0.1' : '::', port = 0, flowlabel = 0 } = options;
    // Node compares the family in lower case but picks the default address from the text as given.
    const family = typeof given === 'string' ? given.toLowerCase() : given;
    if (family !== 'ipv4' && family !== 'ipv6') throw invalidArgValue('options.family', options.family);
    validateString(address, 'options.address');
    const portNumber = validatePort(port, 'options.port');
    validateUint32(flowlabel, 'options.flowlabel');
    const parsed = parseAddress(address, family);
    if (parsed === undefined) throw invalidAddress();
    this.#family = family;
    this.#address = parsed.text;
    this.#port = portNumber;
    this.#flowlabel = flowlabel;
    this[VALUE] = parsed.value;
  }

  get address(): string {
    return this.#address;
  }

  get port(): number {
    return this.#port;
  }

  get family(): SocketAddressFamily {
    return this.#family;
  }

  get flowlabel(): number {
    return this.#flowlabel;
  }

  toJSON(): { address: string; port: number; family: SocketAddressFamily; flowlabel: number } {
    return { address: this.address, port: this.port, family: this.family, flowlabel: this.flowlabel };
  }

  /** Printed as Node prints it: `SocketAddress { address: '10.0.0.1', port: 80, ... }`. */
  [Symbol.for('nodejs.util.inspect.custom')](depth: number, options: { depth?: number | null }): unknown {
    if (depth < 0) return '[SocketAddress]';
    const nested = { ...options, depth: options.depth == null ? null : options.depth - 1 };
    return `SocketAddress ${inspect(this.toJSON(), nested)}`;
  }

  static isSocketAddress(value: unknown): value is SocketAddress {
    return value instanceof SocketAddress;
  }

  /**
   * 'address[:port]' or '[ipv6][:port]' (Node 22), or undefined when the text is not an address with an
   * optional port. Read as a URL authority of a scheme without a default port, so ':80' is kept.
   */
  static parse(input: string): SocketAddress | undefined {
    validateString(input, 'input');
    try {
      const { hostname, port } = new URL(`tcpts://${input}`);
      const portNumber = port === '' ? 0 : Number(port);
      if (hostname.startsWith('[') && hostname.endsWith(']')) {
        return new SocketAddress({ address: hostname.slice(1, -1), port: portNumber, family: 'ipv6' });
      }
      return new SocketAddress({ address: hostname, port: portNumber });
    } catch {
      return undefined;
    }
  }
}

/** A SocketAddress's place in the 128-bit space (IPv4 mapped). */
export function socketAddressValue(address: SocketAddress): Ipv6Address {
  return address[VALUE];
}

/** The address text as inet_pton reads it for `family`: canonical text and value, or undefined. */
function parseAddress(
  text: string,
  family: SocketAddressFamily,
): { text: string; value: Ipv6Address } | undefined {
  if (family === 'ipv4') {
    if (!isIPv4(text)) return undefined;
    return { text, value: IPV4_MAPPED_PREFIX | BigInt(parseIpv4(text)!) };
  }
  if (!isIPv6(text)) return undefined;
  const zone = text.indexOf('%');
  const value = parseIpv6(zone >= 0 ? text.slice(0, zone) : text);
  if (value === undefined) return undefined;
  return { text: ipv6ToString(value), value };
}

export function invalidAddress(): Error {
  return nodeError('ERR_INVALID_ADDRESS', 'Invalid socket address');
}
