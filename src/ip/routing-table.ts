import type { Ipv4Address } from '../wire/address.js';
import { ipv4ToString, prefixMask } from '../wire/address.js';
import { type AddressInput, networkOf, type PrefixInput, toAddress, toPrefix } from './address-prefix.js';
import { errnoError } from './errors.js';
import type { IpInterface } from './ip-interface.js';

export interface Route {
  /** Network address of the destination prefix (host bits cleared). */
  readonly destination: Ipv4Address;
  readonly prefixLength: number;
  /** Next hop; undefined for a directly connected (on-link) route. */
  readonly gateway: Ipv4Address | undefined;
  readonly interface: IpInterface;
  /** Lower wins among routes with the same prefix length. */
  readonly metric: number;
  /** 'connected' routes come and go with their interface; 'static' ones are added by the user. */
  readonly origin: 'connected' | 'static';
}

export interface RouteInput {
  /** 'a.b.c.d/n', the object form, or 'default' for 0.0.0.0/0. */
  destination: PrefixInput | 'default';
  /** Next hop, which must be on the subnet of one of the stack's interfaces. Omit for an on-link route. */
  gateway?: AddressInput;
  /** Outgoing interface (object or device name); found from the gateway when omitted. */
  interface?: IpInterface | string;
  metric?: number;
}

/**
 * The routing table: longest-prefix match (RFC 1812 §5.2.4.3), ties broken by the lower metric, then by
 * the route added first. Small tables are scanned in order, which is sorted by prefix length, so the first
 * match is the answer.
 */
export class RoutingTable {
  private readonly table: Route[] = [];
  /**
   * Counts the changes to the table, and so to the interfaces and their addresses (each comes and goes
   * with its connected route): a path worked out under one count holds while it stays (Ipv4Path).
   */
  generation = 0;

  constructor(private readonly interfaces: () => readonly IpInterface[]) {}

  /** Adds a static route and returns it. Throws EINVAL for bad input, ENETUNREACH for an off-link gateway. */
  add(input: RouteInput): Route {
    const prefix =
      input.destination === 'default'
        ? { address: 0, prefixLength: 0 }
        : toPrefix(input.destination, 'destination');
    const gateway = input.gateway === undefined ? undefined : toAddress(input.gateway, 'gateway');
    const metric = input.metric ?? 0;
    if (!Number.isInteger(metric) || metric < 0) throw errnoError('EINVAL', `invalid metric: ${metric}`);
    let iface: IpInterface | undefined;
    if (typeof input.interface === 'string') {
      iface = this.interfaces().find((i) => i.name === input.interface);
      if (!iface) throw errnoError('EINVAL', `no interface named ${input.interface}`);
    } else {
      iface = input.interface;
    }
    if (gateway !== undefined) {
      // The next hop must be reachable directly, as Linux insists ("Nexthop has invalid gateway").
      const onLink = this.interfaces().filter((i) => i.isOnLink(gateway));
      if (iface === undefined) iface = onLink[0];
      if (iface === undefined || !iface.isOnLink(gateway)) {
        throw errnoError('ENETUNREACH', `gateway ${ipv4ToString(gateway)} is not on any interface's subnet`);
      }
    }
    if (iface === undefined) throw errnoError('EINVAL', 'an on-link route needs an interface');
    return this.insert({
      destination: networkOf(prefix.address, prefix.prefixLength),
      prefixLength: prefix.prefixLength,
      gateway,
      interface: iface,
      metric,
      origin: 'static',
    });
  }

  /** Adds the on-link route of a newly configured interface. */
  addConnected(iface: IpInterface): Route {
    return this.insert({
      destination: iface.network,
      prefixLength: iface.prefixLength,
      gateway: undefined,
      interface: iface,
      metric: 0,
      origin: 'connected',
    });
  }

  /** Removes one route (as returned by add or list). Returns whether it was present. */
  remove(route: Route): boolean {
    const i = this.table.indexOf(route);
    if (i < 0) return false;
    this.table.splice(i, 1);
    this.generation++;
    return true;
  }

  /** Removes every route through `iface` (the interface went away). */
  removeInterface(iface: IpInterface): void {
    this.generation++;
    for (let i = this.table.length - 1; i >= 0; i--) {
      if (this.table[i]!.interface === iface) this.table.splice(i, 1);
    }
  }

  /** The best route to `destination`, or undefined when none matches. */
  lookup(destination: Ipv4Address): Route | undefined {
    for (const route of this.table) {
      if ((destination & prefixMask(route.prefixLength)) >>> 0 === route.destination) return route;
    }
    return undefined;
  }

  /** Every route, most specific first. */
  list(): readonly Route[] {
    return this.table.slice();
  }

  /** `ip route`-style text, one line per route. */
  toString(): string {
    return this.table
      .map((r) => {
        const dst = r.prefixLength === 0 ? 'default' : `${ipv4ToString(r.destination)}/${r.prefixLength}`;
        const via = r.gateway === undefined ? '' : ` via ${ipv4ToString(r.gateway)}`;
        const metric = r.metric ? ` metric ${r.metric}` : '';
        return `${dst}${via} dev ${r.interface.name}${metric}`;
      })
      .join('\n');
  }

  private insert(route: Route): Route {
    let i = 0;
    while (i < this.table.length) {
      const other = this.table[i]!;
      if (
        other.prefixLength < route.prefixLength ||
        (other.prefixLength === route.prefixLength && other.metric > route.metric)
      ) {
        break;
      }
      i++;
    }
    this.table.splice(i, 0, route);
    this.generation++;
    return route;
  }
}
