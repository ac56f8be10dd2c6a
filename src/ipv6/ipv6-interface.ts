/**
 * One device's IPv6 state: its addresses (each with its DAD state, RFC 4862 §5.4), the multicast groups
 * it listens to (all-nodes and every address's solicited-node group, RFC 4291 §2.8), its neighbor cache
 * (the protocol-neutral one of ip/neighbour-cache.ts),
 * the on-link prefixes and default routers routers taught it (RFC 4861 §6.3.4), and its MTU.
 */

import type { NeighbourCache } from '../ip/neighbour-cache.js';
import type { NetworkDevice } from '../link/device.js';
import type { EthernetPort } from '../link/ethernet-layer.js';
import type { TimerHandle } from '../time/clock.js';
import { type Ipv6Address, ipv6InPrefix, ipv6ToString, isIpv6LinkLocal } from '../wire/ipv6-address.js';

export type Ipv6AddressState = 'tentative' | 'preferred' | 'deprecated' | 'duplicate';

export interface Ipv6InterfaceAddress {
  readonly address: Ipv6Address;
  readonly prefixLength: number;
  state: Ipv6AddressState;
  /** How it was made: configured by hand, link-local, or autoconfigured from a router's prefix. */
  readonly origin: 'manual' | 'link-local' | 'slaac';
  /** Absolute time (clock ms) the address stops being valid; Infinity for ever. */
  validUntil: number;
  /** The nonce of our own DAD probes (RFC 7527), to recognise them when a link loops them back. */
  dadNonce: Uint8Array | undefined;
  dadProbesLeft: number;
  timer: TimerHandle | undefined;
}

export interface OnLinkPrefix {
  readonly prefix: Ipv6Address;
  readonly prefixLength: number;
  validUntil: number;
}

export interface DefaultRouter {
  readonly address: Ipv6Address;
  validUntil: number;
}

export class Ipv6Interface {
  readonly addresses: Ipv6InterfaceAddress[] = [];
  readonly groups = new Set<Ipv6Address>();
  /**
   * Until when an MLDv1 querier counts as present on this link (RFC 3810 §8.2.1): MLD speaks version 1
   * here until then. 0: none heard.
   */
  mldv1QuerierUntil = 0;
  readonly prefixes: OnLinkPrefix[] = [];
  readonly routers: DefaultRouter[] = [];
  /** The neighbour cache NDP resolves into (the one ARP uses too); set by the layer right after construction. */
  neighbors!: NeighbourCache<Ipv6Address>;
  /** BaseReachableTime (RFC 4861 §6.3.2), of which the cache uses a random 0.5-1.5 times. */
  baseReachableTimeMs = 30_000;
  /** Neighbors whose IsRouter flag is set (RFC 4861 §7.2.5: advertisements say, router advertisements imply). */
  readonly routerNeighbors = new Set<Ipv6Address>();
  /** Current link MTU: the device's, lowered by configuration or a router's MTU option. */
  mtu: number;
  /** Hop limit for packets we originate; a router advertisement may change it (RFC 4861 §6.3.4). */
  hopLimit: number;
  /**
   * Gateway mode (as `IpInterface.terminateAnyDestination` for IPv4): TCP and UDP to any unicast
   * destination arriving here are delivered locally, and packets out of it may carry any source.
   */
  terminateAnyDestination = false;
  /** Router solicitations sent since the interface came up. */
  solicitationsSent = 0;

  constructor(
    readonly index: number,
    readonly device: NetworkDevice,
    readonly port: EthernetPort,
    mtu: number,
    hopLimit: number,
  ) {
    this.mtu = mtu;
    this.hopLimit = hopLimit;
  }

  get name(): string {
    return this.device.name;
  }

  /** An address of ours in a usable state (not tentative, not duplicate). */
  hasAddress(address: Ipv6Address): boolean {
    return this.addresses.some(
      (a) => a.address === address && (a.state === 'preferred' || a.state === 'deprecated'),
    );
  }

  find(address: Ipv6Address): Ipv6InterfaceAddress | undefined {
    return this.addresses.find((a) => a.address === address);
  }

  /** Link-local destinations and those inside an on-link prefix are reached directly (RFC 4861 §5.2). */
  isOnLink(address: Ipv6Address, now: number): boolean {
    if (isIpv6LinkLocal(address)) return true;
    if (
      this.addresses.some(
        (a) => a.origin !== 'link-local' && ipv6InPrefix(address, a.address, a.prefixLength),
      )
    )
      return true;
    return this.prefixes.some((p) => p.validUntil > now && ipv6InPrefix(address, p.prefix, p.prefixLength));
  }

  /** The first default router still valid (RFC 4861 §6.3.6 prefers reachable ones; see the layer). */
  defaultRouters(now: number): Ipv6Address[] {
    return this.routers.filter((r) => r.validUntil > now).map((r) => r.address);
  }

  linkLocal(): Ipv6Address | undefined {
    return this.addresses.find((a) => a.origin === 'link-local' && a.state === 'preferred')?.address;
  }

  toString(): string {
    const list = this.addresses.map((a) => `${ipv6ToString(a.address)}/${a.prefixLength} ${a.state}`);
    return `${this.name} ${list.join(', ')} mtu ${this.mtu}`;
  }
}
