/**
 * Which destinations a gateway's guests may reach. A policy sees each new flow after address mapping
 * (the gateway's own address already turned into the host's loopback) and says yes or no; a refused TCP
 * connection is reset, a refused UDP datagram or ICMP echo dropped, each counted.
 */
import { toPrefix } from '../ip/address-prefix.js';
import { parseIpv4, prefixMask } from '../wire/address.js';

export interface FlowDestination {
  protocol: 'tcp' | 'udp' | 'icmp';
  /** IPv4 literal, as the upstream will be asked to reach it. */
  address: string;
  /** 0 for ICMP. */
  port: number;
}

export type DestinationPolicy = (destination: FlowDestination) => boolean;

export const allowAll: DestinationPolicy = () => true;

/**
 * A policy allowing the listed prefixes, e.g. `allowList(['127.0.0.0/8', '10.0.0.0/8'])`. Throws EINVAL
 * for a malformed prefix, so a typo cannot silently open or close everything.
 */
export function allowList(prefixes: readonly string[]): DestinationPolicy {
  const parsed = prefixes.map((text) => {
    const { address, prefixLength } = toPrefix(text.includes('/') ? text : `${text}/32`, 'allowed prefix');
    const mask = prefixMask(prefixLength);
    return { network: (address & mask) >>> 0, mask };
  });
  return ({ address }) => {
    const a = parseIpv4(address);
    if (a === undefined) return false;
    return parsed.some(({ network, mask }) => (a & mask) >>> 0 === network);
  };
}
