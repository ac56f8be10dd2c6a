/**
 * Which destinations a gateway's guests may reach. A policy sees each new flow after address mapping
 * (the gateway's own address already turned into the host's loopback) and says yes or no; a refused TCP
 * connection is reset, a refused UDP datagram or ICMP echo dropped, each counted.
 */
import { toPrefix } from '../ip/address-prefix.js';
import { parseIpv6Prefix } from '../ipv6/ipv6-layer.js';
import { parseIpv4, prefixMask } from '../wire/address.js';
import { parseIpv6 } from '../wire/ipv6-address.js';

export interface FlowDestination {
  protocol: 'tcp' | 'udp' | 'icmp';
  /** IPv4 or IPv6 literal, as the upstream will be asked to reach it. */
  address: string;
  /** 0 for ICMP. */
  port: number;
}

export type DestinationPolicy = (destination: FlowDestination) => boolean;

export const allowAll: DestinationPolicy = () => true;

/**
 * A policy allowing the listed prefixes, IPv4 or IPv6, e.g. `allowList(['127.0.0.0/8', '::1/128',
 * 'fd00::/8'])`. Throws EINVAL for a malformed prefix, so a typo cannot silently open or close everything.
 */
export function allowList(prefixes: readonly string[]): DestinationPolicy {
  const v4: Array<{ network: number; mask: number }> = [];
  const v6: Array<{ network: bigint; mask: bigint }> = [];
  for (const text of prefixes) {
    if (text.includes(':')) {
      const { address, prefixLength } = parseIpv6Prefix(text.includes('/') ? text : `${text}/128`);
      const mask = prefixLength === 0 ? 0n : ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - prefixLength)) - 1n);
      v6.push({ network: address & mask, mask });
      continue;
    }
    const { address, prefixLength } = toPrefix(text.includes('/') ? text : `${text}/32`, 'allowed prefix');
    const mask = prefixMask(prefixLength);
    v4.push({ network: (address & mask) >>> 0, mask });
  }
  return ({ address }) => {
    const a = parseIpv4(address);
    if (a !== undefined) return v4.some(({ network, mask }) => (a & mask) >>> 0 === network);
    const b = parseIpv6(address);
    if (b !== undefined) return v6.some(({ network, mask }) => (b & mask) === network);
    return false;
  };
}
