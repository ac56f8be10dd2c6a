/**
 * Neighbor Discovery for one stack (RFC 4861) with stateless address autoconfiguration (RFC 4862) and
 * the MLD reports that announce solicited-node groups (RFC 3810 §6, enough for switches that snoop).
 *
 * - Address resolution and NUD: NS to the solicited-node group (or unicast when probing), NA back with
 *   S and O set; the neighbour cache shared with ARP (ip/neighbour-cache.ts) keeps the states, bounds and
 *   counters; what NDP hears goes in with its override rule (RFC 4861 §7.2.3, §7.2.5).
 * - Validation (§7.1.1, §7.1.2, §6.1.2, §8.1): Hop Limit 255 (the message cannot have come through a
 *   router), code 0, target not multicast, an NS from :: only to a solicited-node group and without a
 *   source link-layer option, RAs only from link-local sources. Invalid messages are counted and dropped.
 * - DAD (RFC 4862 §5.4): a new address is tentative; we send DupAddrDetectTransmits NS from :: with a
 *   nonce (RFC 7527) and wait RetransTimer after the last. An NA for it, or an NS for it from :: with
 *   another nonce, makes it duplicate (never used); our own looped-back probe is recognised by its nonce.
 * - Router discovery and SLAAC (§6.3.4, RFC 4862 §5.5.3): RAs set hop limit, MTU, retransmission and
 *   reachable times, default routers and on-link prefixes; an autonomous /64 prefix gives an address
 *   formed from the interface identifier, which goes through DAD before use.
 * - Redirects (§8): from the current first-hop router, link-local source: the destination is reached
 *   through the target from then on.
 */
import type { MacAddress } from '../wire/address.js';
import {
  emitIcmpv6,
  type Icmpv6Message,
  type Icmpv6NeighborAdvertisement,
  type Icmpv6NeighborSolicitation,
  type Icmpv6Redirect,
  type Icmpv6RouterAdvertisement,
  icmpv6Length,
  MLD_CHANGE_TO_EXCLUDE,
} from '../wire/icmpv6.js';
import { IPV6_NEXT_ICMPV6 } from '../wire/ipv6.js';
import {
  IPV6_ALL_MLDV2_ROUTERS,
  IPV6_ALL_NODES,
  IPV6_ALL_ROUTERS,
  type Ipv6Address,
  ipv6ToString,
  ipv6WithInterfaceId,
  isIpv6LinkLocal,
  isIpv6Multicast,
  solicitedNodeAddress,
} from '../wire/ipv6-address.js';
import {
  emitIpv6OptionsHeader,
  IPV6_OPTION_ROUTER_ALERT,
  ipv6OptionsHeaderLength,
} from '../wire/ipv6-extension-headers.js';
import { findNdpOption, NDP_INFINITE_LIFETIME } from '../wire/ndp.js';
import type { Ipv6Interface, Ipv6InterfaceAddress } from './ipv6-interface.js';

/** What NDP needs from the IPv6 layer. */
export interface NdpHost {
  readonly now: () => number;
  readonly random: () => number;
  randomBytes(n: number): Uint8Array;
  /** Sends an ICMPv6 message built here, hop limit 255 unless given, to a known MAC or through resolution. */
  sendIcmpv6(
    iface: Ipv6Interface,
    src: Ipv6Address,
    dst: Ipv6Address,
    message: Icmpv6Message,
    options?: { hopLimit?: number; mac?: MacAddress; hopByHop?: Uint8Array },
  ): void;
  drop(reason: string): void;
  note(text: string): void;
  setTimer(ms: number, callback: () => void): { cancel(): void };
  /** An address finished DAD (usable) or was found duplicate. */
  addressChanged(iface: Ipv6Interface, entry: Ipv6InterfaceAddress): void;
  /** The interface identifier of `iface` for SLAAC (EUI-64 or RFC 7217). */
  interfaceIdFor(iface: Ipv6Interface, prefix: Ipv6Address): bigint;
}

export interface NdpOptions {
  /** DupAddrDetectTransmits (RFC 4862 §5.1). Default 1; 0 turns DAD off. */
  dadTransmits?: number;
  /** RetransTimer, ms (RFC 4861 §10). Default 1000. */
  retransTimerMs?: number;
  /** MAX_RTR_SOLICITATIONS. Default 3. */
  routerSolicitations?: number;
  /** RTR_SOLICITATION_INTERVAL, ms. Default 4000. */
  routerSolicitationIntervalMs?: number;
  /** Accept router advertisements (hosts do, routers do not). Default true. */
  acceptRouterAdvertisements?: boolean;
}

const HOP_LIMIT_NDP = 255;

export class NeighborDiscovery {
  readonly dadTransmits: number;
  readonly retransTimerMs: number;
  private readonly routerSolicitations: number;
  private readonly routerSolicitationIntervalMs: number;
  acceptRouterAdvertisements: boolean;
  /** Set by a stack acting as a router (a user-mode gateway): called for each valid RS. */
  routerSolicited: ((iface: Ipv6Interface, src: Ipv6Address) => void) | undefined;
  /** Redirected destinations: destination -> better first hop (RFC 4861 §8.3). */
  readonly redirects = new Map<Ipv6Address, Ipv6Address>();

  constructor(
    private readonly host: NdpHost,
    options: NdpOptions = {},
  ) {
    this.dadTransmits = options.dadTransmits ?? 1;
    this.retransTimerMs = options.retransTimerMs ?? 1000;
    this.routerSolicitations = options.routerSolicitations ?? 3;
    this.routerSolicitationIntervalMs = options.routerSolicitationIntervalMs ?? 4000;
    this.acceptRouterAdvertisements = options.acceptRouterAdvertisements ?? true;
  }

  // ---------------------------------------------------------------------------------------------------
  // Addresses: DAD, groups, SLAAC

  /** Starts using `entry` on `iface`: joins its solicited-node group and runs DAD (RFC 4862 §5.4). */
  startAddress(iface: Ipv6Interface, entry: Ipv6InterfaceAddress): void {
    iface.groups.add(solicitedNodeAddress(entry.address));
    this.reportGroups(iface);
    if (this.dadTransmits <= 0) {
      entry.state = 'preferred';
      this.host.addressChanged(iface, entry);
      return;
    }
    entry.state = 'tentative';
    entry.dadProbesLeft = this.dadTransmits;
    // RFC 4862 §5.4.2: the first probe waits a random 0-1 s so hosts powered up together do not collide.
    entry.timer = this.host.setTimer(Math.floor(this.host.random() * 1000), () => this.probe(iface, entry));
  }

  private probe(iface: Ipv6Interface, entry: Ipv6InterfaceAddress): void {
    if (entry.state !== 'tentative') return;
    if (entry.dadProbesLeft === 0) {
      entry.state = 'preferred';
      entry.timer = undefined;
      entry.dadNonce = undefined;
      this.host.note(`IPv6: ${ipv6ToString(entry.address)} passed DAD on ${iface.name}`);
      this.host.addressChanged(iface, entry);
      if (entry.origin === 'link-local') this.solicitRouters(iface);
      return;
    }
    entry.dadProbesLeft--;
    entry.dadNonce = this.host.randomBytes(6);
    this.host.sendIcmpv6(iface, 0n, solicitedNodeAddress(entry.address), {
      kind: 'neighbor-solicitation',
      target: entry.address,
      options: [{ kind: 'nonce', nonce: entry.dadNonce }],
    });
    entry.timer = this.host.setTimer(this.retransTimerMs, () => this.probe(iface, entry));
  }

  private duplicate(iface: Ipv6Interface, entry: Ipv6InterfaceAddress, why: string): void {
    entry.timer?.cancel();
    entry.timer = undefined;
    entry.state = 'duplicate';
    iface.groups.delete(solicitedNodeAddress(entry.address));
    this.host.note(`IPv6: ${ipv6ToString(entry.address)} is a duplicate on ${iface.name} (${why}); not used`);
    this.host.addressChanged(iface, entry);
  }

  /**
   * An MLDv2 report (RFC 3810 §5.2) of every group but all-nodes (never reported, §6), sent from the
   * link-local address or :: while it is tentative, hop limit 1 behind a Router Alert (RFC 2711).
   */
  reportGroups(iface: Ipv6Interface): void {
    const groups = [...iface.groups].filter((g) => g !== IPV6_ALL_NODES);
    if (groups.length === 0) return;
    this.sendMldReport(
      iface,
      groups.map((group) => ({ recordType: MLD_CHANGE_TO_EXCLUDE, group, sources: [] })),
    );
  }

  /**
   * An MLDv2 report (RFC 3810 §5.2) from the link-local address (or :: while it is tentative), hop limit 1
   * behind a Router Alert (RFC 2711), to all MLDv2 routers.
   */
  sendMldReport(
    iface: Ipv6Interface,
    records: { recordType: number; group: Ipv6Address; sources: Ipv6Address[] }[],
    received: (group: Ipv6Address) => boolean = (group) => iface.groups.has(group),
  ): void {
    if (iface.mldv1QuerierUntil > this.host.now()) {
      // RFC 3810 §8.3.2: an MLDv1 Report to each group received, a Done to all routers for one left;
      // source lists are not spoken in version 1.
      for (const group of new Set(records.map((r) => r.group))) {
        const member = received(group);
        this.host.sendIcmpv6(
          iface,
          iface.linkLocal() ?? 0n,
          member ? group : IPV6_ALL_ROUTERS,
          { kind: member ? 'mld-report' : 'mld-done', maxResponseDelay: 0, group },
          { hopLimit: 1, hopByHop: routerAlertHeader() },
        );
      }
      return;
    }
    const hopByHop = routerAlertHeader();
    this.host.sendIcmpv6(
      iface,
      iface.linkLocal() ?? 0n,
      IPV6_ALL_MLDV2_ROUTERS,
      { kind: 'mldv2-report', records },
      { hopLimit: 1, hopByHop },
    );
  }

  private solicitRouters(iface: Ipv6Interface): void {
    if (!this.acceptRouterAdvertisements || iface.solicitationsSent >= this.routerSolicitations) return;
    if (iface.defaultRouters(this.host.now()).length > 0) return;
    const src = iface.linkLocal();
    if (src === undefined) return;
    iface.solicitationsSent++;
    this.host.sendIcmpv6(iface, src, IPV6_ALL_ROUTERS, {
      kind: 'router-solicitation',
      options: [{ kind: 'source-link-layer', mac: iface.device.mac }],
    });
    this.host.setTimer(this.routerSolicitationIntervalMs, () => this.solicitRouters(iface));
  }

  // ---------------------------------------------------------------------------------------------------
  // Resolution

  /** ReachableTime: a random 0.5-1.5 times BaseReachableTime (RFC 4861 §6.3.2, MIN/MAX_RANDOM_FACTOR). */
  reachableTime(baseMs: number): number {
    return Math.round(baseMs * (0.5 + this.host.random()));
  }

  /** Sends an NS for `target` (RFC 4861 §7.2.2): multicast to its solicited-node group, or unicast. */
  solicit(iface: Ipv6Interface, target: Ipv6Address, mac: MacAddress | undefined, src: Ipv6Address): void {
    const dst = mac === undefined ? solicitedNodeAddress(target) : target;
    this.host.sendIcmpv6(
      iface,
      src,
      dst,
      {
        kind: 'neighbor-solicitation',
        target,
        options: [{ kind: 'source-link-layer', mac: iface.device.mac }],
      },
      { mac },
    );
  }

  // ---------------------------------------------------------------------------------------------------
  // Receive

  /** An NDP message arrived on `iface` (checksum verified). Returns false when it was invalid. */
  receive(
    iface: Ipv6Interface,
    src: Ipv6Address,
    dst: Ipv6Address,
    hopLimit: number,
    code: number,
    message: Icmpv6Message,
  ): boolean {
    if (hopLimit !== HOP_LIMIT_NDP || code !== 0) {
      this.host.drop('ndp-not-link-local-hop-limit');
      return false;
    }
    switch (message.kind) {
      case 'neighbor-solicitation':
        return this.receiveSolicitation(iface, src, dst, message);
      case 'neighbor-advertisement':
        return this.receiveAdvertisement(iface, dst, message);
      case 'router-advertisement':
        return this.receiveRouterAdvertisement(iface, src, message);
      case 'router-solicitation': {
        // Hosts silently discard RSs (RFC 4861 §6.2.6); a gateway playing router answers them, and takes
        // the solicitor's link-layer address as a STALE neighbour entry (SHOULD, same section).
        if (this.routerSolicited === undefined) return true;
        const slla = findNdpOption(message.options, 'source-link-layer');
        if (slla !== undefined && src === 0n) {
          this.host.drop('ndp-bad-solicitation');
          return false;
        }
        if (slla !== undefined) iface.neighbors.heard(src, slla.mac, false, true, 'override');
        this.routerSolicited(iface, src);
        return true;
      }
      case 'redirect':
        return this.receiveRedirect(iface, src, message);
      default:
        return true;
    }
  }

  private receiveSolicitation(
    iface: Ipv6Interface,
    src: Ipv6Address,
    dst: Ipv6Address,
    ns: Icmpv6NeighborSolicitation,
  ): boolean {
    const slla = findNdpOption(ns.options, 'source-link-layer');
    if (isIpv6Multicast(ns.target) || (src === 0n && (dst !== solicitedNodeAddress(ns.target) || slla))) {
      this.host.drop('ndp-bad-solicitation');
      return false;
    }
    const entry = iface.find(ns.target);
    if (entry === undefined || entry.state === 'duplicate') return true; // not for us
    if (entry.state === 'tentative') {
      if (src !== 0n) return true; // RFC 4862 §5.4.3: a resolution for our tentative address is ignored
      const nonce = findNdpOption(ns.options, 'nonce');
      if (nonce && entry.dadNonce && equalBytes(nonce.nonce, entry.dadNonce)) return true; // our own probe
      this.duplicate(iface, entry, 'another node is probing for it');
      return true;
    }
    if (src === 0n) {
      // Someone else's DAD for our address: defend it (RFC 4862 §5.4.3) with an NA to all nodes.
      this.advertise(iface, ns.target, IPV6_ALL_NODES, false);
      return true;
    }
    // §7.2.3: the solicitation's source link-layer address creates or updates a STALE entry.
    if (slla) iface.neighbors.heard(src, slla.mac, false, true, 'override');
    this.advertise(iface, ns.target, src, true, slla?.mac);
    return true;
  }

  private advertise(
    iface: Ipv6Interface,
    target: Ipv6Address,
    dst: Ipv6Address,
    solicited: boolean,
    mac?: MacAddress,
  ): void {
    this.host.sendIcmpv6(
      iface,
      target,
      dst,
      {
        kind: 'neighbor-advertisement',
        router: false,
        solicited,
        override: true,
        target,
        options: [{ kind: 'target-link-layer', mac: iface.device.mac }],
      },
      { mac },
    );
  }

  private receiveAdvertisement(
    iface: Ipv6Interface,
    dst: Ipv6Address,
    na: Icmpv6NeighborAdvertisement,
  ): boolean {
    if (isIpv6Multicast(na.target) || (isIpv6Multicast(dst) && na.solicited)) {
      this.host.drop('ndp-bad-advertisement');
      return false;
    }
    const entry = iface.find(na.target);
    if (entry !== undefined) {
      if (entry.state === 'tentative') this.duplicate(iface, entry, 'a neighbor advertised it');
      else if (entry.state !== 'duplicate')
        this.host.note(`IPv6: another node advertises ${ipv6ToString(na.target)}`);
      return true;
    }
    // §7.2.5: an advertisement updates an existing entry only (an unsolicited one creates none). Without a
    // target link-layer option it can still confirm the address cached; with one and without the
    // Override flag it may not replace a different cached address.
    const tlla = findNdpOption(na.options, 'target-link-layer');
    const mac = tlla?.mac ?? iface.neighbors.lookup(na.target);
    if (mac === undefined) return true;
    const update = na.override || tlla === undefined ? 'override' : 'no-override';
    if (!iface.neighbors.heard(na.target, mac, na.solicited, false, update)) return true;
    if (iface.neighbors.lookup(na.target) === undefined) return true;
    if (na.router) iface.routerNeighbors.add(na.target);
    else iface.routerNeighbors.delete(na.target);
    return true;
  }

  private receiveRouterAdvertisement(
    iface: Ipv6Interface,
    src: Ipv6Address,
    ra: Icmpv6RouterAdvertisement,
  ): boolean {
    if (!isIpv6LinkLocal(src)) {
      this.host.drop('ndp-router-advertisement-not-link-local');
      return false;
    }
    if (!this.acceptRouterAdvertisements) return true;
    const now = this.host.now();
    if (ra.curHopLimit !== 0) iface.hopLimit = ra.curHopLimit;
    if (ra.retransTimer !== 0) iface.neighbors.retransmitTimeMs = ra.retransTimer;
    if (ra.reachableTime !== 0 && ra.reachableTime !== iface.baseReachableTimeMs) {
      // §6.3.4: a new BaseReachableTime, and a new random ReachableTime from it.
      iface.baseReachableTimeMs = ra.reachableTime;
      iface.neighbors.reachableTimeMs = this.reachableTime(ra.reachableTime);
    }
    const slla = findNdpOption(ra.options, 'source-link-layer');
    if (slla) {
      iface.neighbors.heard(src, slla.mac, false, true, 'override');
      iface.routerNeighbors.add(src);
    }
    const existing = iface.routers.find((r) => r.address === src);
    if (ra.routerLifetime === 0) {
      if (existing) iface.routers.splice(iface.routers.indexOf(existing), 1);
    } else if (existing) {
      existing.validUntil = now + ra.routerLifetime * 1000;
    } else {
      iface.routers.push({ address: src, validUntil: now + ra.routerLifetime * 1000 });
    }
    const mtu = findNdpOption(ra.options, 'mtu');
    // RFC 4861 §6.3.4: an MTU option below 1280 or above the link's maximum is ignored.
    if (mtu && mtu.mtu >= 1280 && mtu.mtu <= iface.device.mtu) iface.mtu = mtu.mtu;
    for (const option of ra.options) {
      if (option.kind !== 'prefix-information' || isIpv6LinkLocal(option.prefix)) continue;
      if (option.preferredLifetime > option.validLifetime) continue; // RFC 4862 §5.5.3(c)
      const valid = lifetimeEnd(now, option.validLifetime);
      if (option.onLink) {
        const known = iface.prefixes.find(
          (p) => p.prefix === option.prefix && p.prefixLength === option.prefixLength,
        );
        if (known) known.validUntil = valid;
        else if (option.validLifetime > 0)
          iface.prefixes.push({
            prefix: option.prefix,
            prefixLength: option.prefixLength,
            validUntil: valid,
          });
      }
      if (option.autonomous && option.prefixLength === 64 && option.validLifetime > 0) {
        const address = ipv6WithInterfaceId(option.prefix, this.host.interfaceIdFor(iface, option.prefix));
        const known = iface.find(address);
        if (known) {
          // RFC 4862 §5.5.3(e): a valid lifetime is not cut below two hours by an unauthenticated RA.
          const twoHours = now + 7_200_000;
          known.validUntil =
            valid > twoHours || valid > known.validUntil ? valid : Math.max(known.validUntil, twoHours);
        } else {
          const entry: Ipv6InterfaceAddress = {
            address,
            prefixLength: 64,
            state: 'tentative',
            origin: 'slaac',
            validUntil: valid,
            dadNonce: undefined,
            dadProbesLeft: 0,
            timer: undefined,
          };
          iface.addresses.push(entry);
          this.host.note(`IPv6: autoconfiguring ${ipv6ToString(address)} on ${iface.name}`);
          this.startAddress(iface, entry);
        }
      }
    }
    return true;
  }

  private receiveRedirect(iface: Ipv6Interface, src: Ipv6Address, redirect: Icmpv6Redirect): boolean {
    // RFC 4861 §8.1: from a link-local address, the current first hop for the destination; the target
    // is link-local (a router) or the destination itself (it is on-link); never multicast.
    const firstHop = this.redirects.get(redirect.destination) ?? iface.defaultRouters(this.host.now())[0];
    if (
      !isIpv6LinkLocal(src) ||
      isIpv6Multicast(redirect.destination) ||
      (!isIpv6LinkLocal(redirect.target) && redirect.target !== redirect.destination) ||
      firstHop !== src
    ) {
      this.host.drop('ndp-bad-redirect');
      return false;
    }
    this.redirects.set(redirect.destination, redirect.target);
    const tlla = findNdpOption(redirect.options, 'target-link-layer');
    if (tlla) {
      // §8.3: the target's link-layer address updates (or creates) its entry, as an override would.
      iface.neighbors.heard(redirect.target, tlla.mac, false, true, 'override');
      if (redirect.target !== redirect.destination) iface.routerNeighbors.add(redirect.target);
    }
    return true;
  }
}

function lifetimeEnd(now: number, seconds: number): number {
  return seconds === NDP_INFINITE_LIFETIME ? Number.POSITIVE_INFINITY : now + seconds * 1000;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length < b.length) return false;
  for (let i = 0; i < b.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Bytes of an ICMPv6 message (for the layer's writer). */
export function icmpv6Bytes(message: Icmpv6Message, src: Ipv6Address, dst: Ipv6Address): Uint8Array {
  const bytes = new Uint8Array(icmpv6Length(message));
  emitIcmpv6(message, src, dst, bytes, 0);
  return bytes;
}

/** A Hop-by-Hop header holding a Router Alert for MLD (RFC 2711, RFC 3810 §5), before ICMPv6. */
function routerAlertHeader(): Uint8Array {
  const hopByHop = new Uint8Array(ipv6OptionsHeaderLength([{ data: new Uint8Array(2) }]));
  emitIpv6OptionsHeader(
    IPV6_NEXT_ICMPV6,
    [{ type: IPV6_OPTION_ROUTER_ALERT, data: new Uint8Array(2) }],
    hopByHop,
    0,
  );
  return hopByHop;
}
