/**
 * The IPv6 layer (RFC 8200) beside IPv4 on the same Ethernet layer: interfaces with link-local and
 * configured or autoconfigured addresses, extension header processing, reassembly, fragmentation on send,
 * local delivery by Next Header, ICMPv6 (RFC 4443: echo, errors with a rate limit, Packet Too Big for path
 * MTU discovery, RFC 8201) and Neighbor Discovery (neighbor-discovery.ts).
 *
 * Receive path: the packet is checked (version, length), its source must not be multicast (RFC 4291
 * §2.7), its destination must be one of our usable addresses or a group we listen to (else forwarded
 * when forwarding is on, or dropped). Then the header chain is walked as RFC 8200 §4 orders: Hop-by-Hop
 * only first (else Parameter Problem code 1), unknown options handled by their action bits (code 2),
 * a Routing header with Segments Left > 0 of a type we do not implement answered with code 0 pointing at
 * its type (§4.4; type 0 is deprecated, RFC 5095), fragments reassembled (RFC 5722: overlaps drop the
 * packet; RFC 6946: an atomic fragment is processed at once), an unknown upper protocol answered with
 * code 1 pointing at the Next Header that named it (§4).
 *
 * Send path: source address by scope (a link-local destination gets our link-local address, others a
 * global one, RFC 6724 in brief), next hop on-link or through a redirect or default router learned from
 * RAs, neighbor resolution, and fragmentation by the source (RFC 8200 §5) when the packet exceeds the
 * path MTU, which Packet Too Big lowers (never below 1280, RFC 8201 §4) and which is forgotten after
 * `pathMtuExpiryMs` (RFC 8201 §5.3).
 */

import type { IpSendStatus, TransportErrorReport } from '../ip/datagram.js';
import { errnoError } from '../ip/errors.js';
import { icmpErrorMeaning } from '../ip/icmp-errors.js';
import { LoopbackDevice } from '../ip/loopback-device.js';
import { MulticastMemberships } from '../ip/multicast-memberships.js';
import { NeighbourCache, type NeighbourEntryInfo, type NeighbourOptions } from '../ip/neighbour-cache.js';
import type { StackContext } from '../ip/stack-context.js';
import { TokenBucket } from '../ip/token-bucket.js';
import {
  FRAME_RELEASED,
  type FrameDisposition,
  type FrameTransmitOptions,
  type NetworkDevice,
  type ReceivedFrameInfo,
} from '../link/device.js';
import type { EthernetLayer } from '../link/ethernet-layer.js';
import { allocateFrame, allocateStagedFrame, recycleFrame } from '../link/frame-allocator.js';
import type { Ipv6PayloadWriter, Ipv6ProtocolHandler, Ipv6ReceivedPacket } from '../seams.js';
import { segmentTcpPacket } from '../tcp/ip-glue/tcp-segmentation.js';
import type { TimerHandle } from '../time/clock.js';
import type { Random } from '../util/random.js';
import { sipHash24, sipHashKey } from '../util/siphash.js';
import { MAC_ZERO, type MacAddress } from '../wire/address.js';
import { checksumAdd, checksumFinish, pseudoHeaderSum } from '../wire/checksum.js';
import { ETHERNET_HEADER_LENGTH, ETHERTYPE_IPV6 } from '../wire/ethernet.js';
import {
  emitIcmpv6,
  ICMPV6_ADDRESS_UNREACHABLE,
  ICMPV6_DESTINATION_UNREACHABLE,
  ICMPV6_ERRONEOUS_HEADER_FIELD,
  ICMPV6_HOP_LIMIT_EXCEEDED,
  ICMPV6_NO_ROUTE,
  ICMPV6_PACKET_TOO_BIG,
  ICMPV6_PARAMETER_PROBLEM,
  ICMPV6_REASSEMBLY_TIME_EXCEEDED,
  ICMPV6_TIME_EXCEEDED,
  ICMPV6_UNRECOGNIZED_NEXT_HEADER,
  ICMPV6_UNRECOGNIZED_OPTION,
  type Icmpv6Message,
  icmpv6Length,
  isIcmpv6Error,
  MLD_MODE_IS_EXCLUDE,
  MLD_MODE_IS_INCLUDE,
  parseIcmpv6,
} from '../wire/icmpv6.js';
import {
  emitIpv6Header,
  IPV6_HEADER_LENGTH,
  IPV6_MIN_MTU,
  IPV6_NEXT_DESTINATION_OPTIONS,
  IPV6_NEXT_FRAGMENT,
  IPV6_NEXT_HOP_BY_HOP,
  IPV6_NEXT_ICMPV6,
  IPV6_NEXT_NONE,
  IPV6_NEXT_ROUTING,
  IPV6_NEXT_TCP,
  IPV6_NEXT_UDP,
  type Ipv6Header,
  type Ipv6Packet,
  Ipv6View,
  parseIpv6,
  parseQuotedIpv6,
} from '../wire/ipv6.js';
import {
  eui64InterfaceId,
  IPV6_ALL_NODES,
  IPV6_ALL_ROUTERS,
  IPV6_LOOPBACK,
  type Ipv6Address,
  ipv6MulticastMac,
  ipv6ToString,
  isIpv6LinkLocal,
  isIpv6Multicast,
  linkLocalAddress,
  parseIpv6 as parseIpv6Text,
  solicitedNodeAddress,
} from '../wire/ipv6-address.js';
import {
  emitIpv6FragmentHeader,
  IPV6_FRAGMENT_HEADER_LENGTH,
  IPV6_OPTION_ROUTER_ALERT,
  ipv6UnknownOptionAction,
  parseIpv6FragmentHeader,
  parseIpv6Options,
  parseIpv6RoutingHeader,
  readIpv6ExtensionHeader,
  walkIpv6Headers,
} from '../wire/ipv6-extension-headers.js';
import { tcpHeaderLengthAt } from '../wire/tcp.js';
import { Ipv6Interface, type Ipv6InterfaceAddress } from './ipv6-interface.js';
import { Ipv6Reassembler, type Ipv6ReassemblyOptions } from './ipv6-reassembly.js';
import { type NdpOptions, NeighborDiscovery } from './neighbor-discovery.js';

/** Where the TCP checksum lies in the TCP header (RFC 9293 §3.1). */
const TCP_CHECKSUM_OFFSET = 16;

export const DEFAULT_HOP_LIMIT = 64;

export interface Ipv6InterfaceConfig {
  /** Addresses with prefix length, e.g. 'fd00::2/64' (a link-local address is always added). */
  addresses?: readonly string[];
  /** Lowers the interface MTU below the device's (at least 1280). */
  mtu?: number;
  /** A default router (link-local or on-link), instead of learning one from router advertisements. */
  gateway?: string;
  /** Gateway mode: see `Ipv6Interface.terminateAnyDestination`. */
  terminateAnyDestination?: boolean;
}

export interface Ipv6LayerOptions {
  ethernet: EthernetLayer;
  hopLimit?: number;
  ndp?: NdpOptions;
  /**
   * The neighbour cache of every interface: the bounds, timers and counters ARP's cache has
   * (ip/neighbour-cache.ts; `retransmitTimeMs` defaults to NDP's RetransTimer, and `reachableTimeMs` is
   * BaseReachableTime, of which each interface uses a random 0.5-1.5 times, RFC 4861 §6.3.2).
   */
  neighbors?: NeighbourOptions;
  reassembly?: Ipv6ReassemblyOptions;
  /** Sustained ICMPv6 errors per second (RFC 4443 §2.4(f)). Default 1000 (Linux icmpv6 ratelimit). */
  errorRatePerSecond?: number;
  /** Errors that may go back to back. Default 50. */
  errorBurst?: number;
  /** How long a learned path MTU lasts (RFC 8201 §5.3: at least 5 minutes). Default 600000. */
  pathMtuExpiryMs?: number;
  /**
   * How SLAAC interface identifiers are made: 'stable' (RFC 7217: a keyed hash of the prefix, the MAC and
   * a DAD counter, different per network and not revealing the MAC) or 'eui64' (RFC 4291 appendix A).
   * Default 'stable'. Link-local addresses use EUI-64, as Linux does by default.
   */
  interfaceIds?: 'stable' | 'eui64';
}

export type { Ipv6PayloadWriter, Ipv6ProtocolHandler, Ipv6ReceivedPacket } from '../seams.js';

export interface Ipv6SendOptions {
  src?: Ipv6Address;
  dst: Ipv6Address;
  nextHeader: number;
  hopLimit?: number;
  trafficClass?: number;
  /** Required for link-local and multicast destinations on a host with several interfaces. */
  interface?: Ipv6Interface;
  /** A Hop-by-Hop Options header (whole, its Next Header already naming `nextHeader`). */
  hopByHop?: Uint8Array;
  /** Send to this MAC without resolution (NDP replies to a solicitation's source). */
  mac?: MacAddress;
  /**
   * TCP segmentation (TSO/GSO): a TCP packet whose payload is longer than this (or that exceeds the path
   * MTU) is cut into segments carrying at most this many bytes each — by the device when it offers IPv6
   * TSO and the neighbor is resolved, else here. 0: none (a packet too big is fragmented, RFC 8200 §5).
   */
  segmentSize?: number;
  /**
   * IPV6_MULTICAST_LOOP: a packet to a group the egress interface has joined is also delivered to this
   * host, as if received on that interface (the wire never brings our own frames back). Off unless set.
   */
  multicastLoop?: boolean;
}

/**
 * An echo request to an address that is not ours, received on a gateway-mode interface and handed to
 * `Ipv6Layer.echoForOthers` (the IPv6 twin of IPv4's ForeignEchoRequest).
 */
export interface ForeignEcho6Request {
  readonly src: Ipv6Address;
  readonly dst: Ipv6Address;
  readonly interface: Ipv6Interface;
  readonly identifier: number;
  readonly sequence: number;
  /** The echo data (a copy: it outlives the frame). */
  readonly data: Uint8Array;
  readonly hopLimit: number;
  /** The request as received, up to what an ICMPv6 error may quote (a copy), for an error about it. */
  readonly quote: Uint8Array;
}

export interface Ping6Reply {
  readonly from: Ipv6Address;
  readonly rtt: number;
  readonly hopLimit: number;
  readonly bytes: number;
  readonly identifier: number;
  readonly sequence: number;
}

interface PendingPing {
  readonly sentAt: number;
  readonly resolve: (reply: Ping6Reply) => void;
  readonly reject: (error: Error) => void;
  timer: TimerHandle | undefined;
}

class BytesWriter implements Ipv6PayloadWriter {
  constructor(private readonly bytes: Uint8Array) {}
  get length(): number {
    return this.bytes.length;
  }
  write(buf: Uint8Array, offset: number): void {
    buf.set(this.bytes, offset);
  }
}

class Icmpv6Writer implements Ipv6PayloadWriter {
  readonly length: number;
  constructor(private readonly message: Icmpv6Message) {
    this.length = icmpv6Length(message);
  }
  write(buf: Uint8Array, offset: number, src: Ipv6Address, dst: Ipv6Address): void {
    emitIcmpv6(this.message, src, dst, buf, offset);
  }
}

/** As much of an offending packet as an ICMPv6 error may quote (RFC 4443 §2.4(c)). */
const MAX_QUOTE = IPV6_MIN_MTU - IPV6_HEADER_LENGTH - 8;

export class Ipv6Layer {
  /** Forward packets between interfaces (a router). Default false. */
  forwarding = false;
  readonly defaultHopLimit: number;
  readonly ndp: NeighborDiscovery;
  readonly reassembler: Ipv6Reassembler;
  private readonly ifaces: Ipv6Interface[] = [];
  /**
   * `lo` with ::1 (RFC 4291 §2.5.3): packets to our own addresses are delivered through it when no other
   * interface owns them, so ::1 works on a stack with no IPv6 interface at all, as on Linux.
   */
  readonly loopback: Ipv6Interface;
  /**
   * Gateway mode: echo requests to addresses beyond a `terminateAnyDestination` interface come here (a
   * user-mode gateway answers them only when the destination answers the host's own echo, as slirp and
   * passt do). Unset: they are not for us and are dropped.
   */
  echoForOthers: ((request: ForeignEcho6Request) => void) | undefined;
  private readonly handlers = new Map<number, Ipv6ProtocolHandler>();
  private readonly ethernet: EthernetLayer;
  private readonly errorLimit: TokenBucket;
  private readonly pathMtus = new Map<Ipv6Address, { mtu: number; until: number }>();
  private readonly pathMtuExpiryMs: number;
  private readonly neighborOptions: NeighbourOptions | undefined;
  private readonly interfaceIds: 'stable' | 'eui64';
  private readonly idKey;
  private readonly random: Random;
  private readonly pings = new Map<number, PendingPing>();
  private readonly pingIdentifier: number;
  private nextSequence = 1;
  private nextIndex = 1;
  private nextFragmentId: number;
  /**
   * Groups the applications joined and from which sources (joinGroup, addGroupSource), reported by MLDv2
   * (RFC 3810 §6.1); the interfaces' own groups (all-nodes, solicited-node) are kept by NDP beside them.
   */
  readonly listening: MulticastMemberships<Ipv6Address>;
  /** The request handed with a TSO frame (devices read it during `send` only). */
  private readonly tsoOptions: FrameTransmitOptions = {
    checksumStart: 0,
    checksumOffset: 0,
    segmentSize: 0,
    headroom: 0,
  };
  private closed = false;

  constructor(
    private readonly ctx: StackContext,
    options: Ipv6LayerOptions,
  ) {
    this.ethernet = options.ethernet;
    this.defaultHopLimit = options.hopLimit ?? DEFAULT_HOP_LIMIT;
    this.errorLimit = new TokenBucket(
      ctx.clock,
      options.errorRatePerSecond ?? 1000,
      options.errorBurst ?? 50,
    );
    this.pathMtuExpiryMs = options.pathMtuExpiryMs ?? 600_000;
    const lo = new LoopbackDevice(ctx.clock);
    this.loopback = new Ipv6Interface(
      0,
      lo,
      this.ethernet.portFor(lo, { loopback: true }),
      lo.mtu,
      this.defaultHopLimit,
    );
    this.loopback.addresses.push({
      address: IPV6_LOOPBACK,
      prefixLength: 128,
      state: 'preferred',
      origin: 'manual',
      validUntil: Number.POSITIVE_INFINITY,
      dadNonce: undefined,
      dadProbesLeft: 0,
      timer: undefined,
    });
    this.neighborOptions = options.neighbors;
    this.interfaceIds = options.interfaceIds ?? 'stable';
    const random = ctx.random.fork('ipv6');
    this.random = random;
    this.idKey = sipHashKey(random.bytes(16));
    this.pingIdentifier = random.next() & 0xffff;
    // RFC 7739 §5: fragment identifications should not be predictable; a random start and a random
    // stride per packet keep them unique per destination for a long time.
    this.nextFragmentId = random.next() >>> 0;
    this.reassembler = new Ipv6Reassembler(
      ctx.clock,
      (first) => {
        if (first === undefined) return;
        const packet = parseIpv6(first);
        const iface = packet.ok ? this.ifaces.find((i) => i.hasAddress(packet.value.dst)) : undefined;
        if (packet.ok && iface) {
          this.sendError(
            iface,
            packet.value,
            first,
            ICMPV6_TIME_EXCEEDED,
            ICMPV6_REASSEMBLY_TIME_EXCEEDED,
            0,
          );
        }
      },
      options.reassembly,
    );
    this.listening = new MulticastMemberships<Ipv6Address>({
      clock: ctx.clock,
      random,
      // RFC 3810 §9.11: Unsolicited Report Interval, 1 s.
      unsolicitedReportIntervalMs: 1000,
      send: (records) => {
        for (const iface of this.ifaces) {
          const own = records.filter((r) => !this.interfaceNeeds(iface, r.group));
          // (Called while the change is applied, before the interface's group list follows it.)
          if (own.length > 0) this.ndp.sendMldReport(iface, own, (g) => this.listening.isMember(g));
        }
      },
    });
    this.ndp = new NeighborDiscovery(
      {
        now: () => ctx.clock.now(),
        random: () => random.float(),
        randomBytes: (n) => random.bytes(n),
        sendIcmpv6: (iface, src, dst, message, o) => {
          this.send(
            {
              src,
              dst,
              nextHeader: o?.hopByHop ? IPV6_NEXT_HOP_BY_HOP : IPV6_NEXT_ICMPV6,
              hopLimit: o?.hopLimit ?? 255,
              interface: iface,
              mac: o?.mac,
              hopByHop: o?.hopByHop,
            },
            new Icmpv6Writer(message),
          );
        },
        drop: (reason) => ctx.drop('ndp', reason),
        note: (text) => ctx.note(text),
        setTimer: (ms, callback) => ctx.clock.setTimer(ms, callback),
        addressChanged: () => {},
        interfaceIdFor: (iface, prefix) => this.interfaceIdFor(iface, prefix),
      },
      options.ndp,
    );
  }

  /** Sends an ICMPv6 message built by the caller (a gateway's router advertisements), hop limit 255. */
  sendIcmpv6(iface: Ipv6Interface, src: Ipv6Address, dst: Ipv6Address, message: Icmpv6Message): IpSendStatus {
    return this.send(
      { src, dst, nextHeader: IPV6_NEXT_ICMPV6, hopLimit: 255, interface: iface },
      new Icmpv6Writer(message),
    );
  }

  get interfaces(): readonly Ipv6Interface[] {
    return this.ifaces;
  }

  /**
   * Starts IPv6 on `device`: a link-local address (EUI-64) and the configured ones, each through DAD, and
   * router solicitation once the link-local address is usable. Throws EINVAL for a bad address or MTU,
   * EEXIST when the device already runs IPv6.
   */
  addInterface(device: NetworkDevice, config: Ipv6InterfaceConfig = {}): Ipv6Interface {
    if (this.ifaces.some((i) => i.device === device))
      throw errnoError('EEXIST', `${device.name} already runs IPv6`);
    const mtu = Math.min(device.mtu, config.mtu ?? device.mtu);
    if (!Number.isInteger(mtu) || mtu < IPV6_MIN_MTU)
      throw errnoError('EINVAL', `an IPv6 link needs an MTU of at least 1280, got ${mtu}`);
    const parsedAddresses = (config.addresses ?? []).map(parseIpv6Prefix);
    const gateway = config.gateway === undefined ? undefined : parseIpv6Text(config.gateway);
    if (config.gateway !== undefined && gateway === undefined)
      throw errnoError('EINVAL', `${config.gateway} is not an IPv6 address`);
    const port = this.ethernet.portFor(device);
    const iface = new Ipv6Interface(this.nextIndex++, device, port, mtu, this.defaultHopLimit);
    iface.terminateAnyDestination = config.terminateAnyDestination === true;
    iface.neighbors = new NeighbourCache<Ipv6Address>(
      this.ctx,
      {
        name: 'ndp',
        solicit: (target, mac) => {
          const src = this.sourceFor(iface, target);
          if (src !== undefined) this.ndp.solicit(iface, target, mac, src);
        },
        transmit: (frame) => port.sendFrame(frame),
        failed: (_target, frames) => this.resolutionFailed(iface, frames),
        describe: ipv6ToString,
      },
      { retransmitTimeMs: this.ndp.retransTimerMs, ...this.neighborOptions },
    );
    iface.baseReachableTimeMs = iface.neighbors.reachableTimeMs;
    iface.neighbors.reachableTimeMs = this.ndp.reachableTime(iface.baseReachableTimeMs);
    iface.groups.add(IPV6_ALL_NODES);
    for (const group of this.listening.joined()) iface.groups.add(group);
    this.ifaces.push(iface);
    port.register(ETHERTYPE_IPV6, (frame, offset, linkBroadcast, info) =>
      this.receive(iface, frame.subarray(offset), linkBroadcast, info),
    );
    if (gateway !== undefined) iface.routers.push({ address: gateway, validUntil: Number.POSITIVE_INFINITY });
    this.addAddress(iface, linkLocalAddress(eui64InterfaceId(device.mac)), 64, 'link-local');
    for (const { address, prefixLength } of parsedAddresses)
      this.addAddress(iface, address, prefixLength, 'manual');
    return iface;
  }

  /** Adds an address to `iface` and starts DAD for it. */
  addAddress(
    iface: Ipv6Interface,
    address: Ipv6Address,
    prefixLength: number,
    origin: Ipv6InterfaceAddress['origin'] = 'manual',
  ): Ipv6InterfaceAddress {
    if (isIpv6Multicast(address) || address === 0n || address === IPV6_LOOPBACK)
      throw errnoError('EINVAL', `${ipv6ToString(address)} cannot be an interface address`);
    if (this.ifaces.some((i) => i.find(address)))
      throw errnoError('EADDRINUSE', `${ipv6ToString(address)} is already ours`);
    const entry: Ipv6InterfaceAddress = {
      address,
      prefixLength,
      state: 'tentative',
      origin,
      validUntil: Number.POSITIVE_INFINITY,
      dadNonce: undefined,
      dadProbesLeft: 0,
      timer: undefined,
    };
    iface.addresses.push(entry);
    this.ndp.startAddress(iface, entry);
    return entry;
  }

  removeInterface(iface: Ipv6Interface): void {
    const i = this.ifaces.indexOf(iface);
    if (i < 0) return;
    this.ifaces.splice(i, 1);
    for (const a of iface.addresses) a.timer?.cancel();
    iface.neighbors.clear();
    iface.port.unregister(ETHERTYPE_IPV6);
    this.ethernet.release(iface.device);
  }

  registerProtocol(nextHeader: number, handler: Ipv6ProtocolHandler): void {
    if (this.handlers.has(nextHeader))
      throw errnoError('EADDRINUSE', `next header ${nextHeader} already has a handler`);
    this.handlers.set(nextHeader, handler);
  }

  /** True for ::1 and every usable address of ours. */
  isLocalAddress(address: Ipv6Address): boolean {
    return address === IPV6_LOOPBACK || this.ifaces.some((i) => i.hasAddress(address));
  }

  /** The source address a packet to `dst` would carry (undefined: no usable address or no route). */
  sourceAddressFor(dst: Ipv6Address): Ipv6Address | undefined {
    if (this.isLocalAddress(dst)) return dst;
    const route = this.route(dst, undefined);
    return route === undefined ? undefined : this.sourceFor(route.iface, dst);
  }

  /** Largest packet toward `dst`: the link MTU lowered by Packet Too Big (RFC 8201); lo's for our own. */
  mtuFor(dst: Ipv6Address): number {
    if (this.isLocalAddress(dst)) return this.loopback.mtu;
    const route = this.route(dst, undefined);
    const linkMtu = route?.iface.mtu ?? IPV6_MIN_MTU;
    const learned = this.pathMtus.get(dst);
    if (learned === undefined) return linkMtu;
    if (learned.until <= this.ctx.clock.now()) {
      this.pathMtus.delete(dst);
      return linkMtu;
    }
    return Math.min(linkMtu, learned.mtu);
  }

  /** MTU of the interface toward `dst` (what the MSS we announce is made from), whatever the path. */
  interfaceMtuFor(dst: Ipv6Address): number {
    if (this.isLocalAddress(dst)) return this.loopback.mtu;
    return this.route(dst, undefined)?.iface.mtu ?? IPV6_MIN_MTU;
  }

  /** Every neighbor cache entry, like `ip -6 neigh show`, with its IsRouter flag (RFC 4861 §7.2.5). */
  neighbors(): Array<NeighbourEntryInfo<Ipv6Address> & { isRouter: boolean; interfaceName: string }> {
    return this.ifaces.flatMap((iface) =>
      iface.neighbors
        .list()
        .map((e) => ({ ...e, isRouter: iface.routerNeighbors.has(e.address), interfaceName: iface.name })),
    );
  }

  /**
   * Joins multicast `group` on every IPv6 interface (IPV6_JOIN_GROUP): datagrams sent to it are
   * delivered from now on, and an MLDv2 state change report says so to snooping switches and routers
   * (RFC 3810 §6.1). Counted: each join needs a leave. EINVAL for an address that is not multicast.
   */
  joinGroup(group: Ipv6Address): void {
    if (!isIpv6Multicast(group))
      throw errnoError('EINVAL', `${ipv6ToString(group)} is not a multicast group`);
    this.changeListening(group, () => this.listening.join(group));
  }

  /**
   * Undoes one `joinGroup` (IPV6_LEAVE_GROUP). Once nothing asks for the group it is no longer delivered,
   * unless the interface needs it itself (all-nodes, a solicited-node group of one of its addresses), and
   * an MLDv2 report changes it to INCLUDE with no sources (RFC 3810 §6.1: leaving).
   */
  leaveGroup(group: Ipv6Address): void {
    this.changeListening(group, () => this.listening.leave(group));
  }

  /**
   * Receives `group` from `source` (MCAST_JOIN_SOURCE_GROUP, RFC 4607), counted: datagrams from other
   * sources are dropped unless something joined the group for every source. MLDv2 reports the change
   * (ALLOW_NEW_SOURCES, or a mode change).
   */
  addGroupSource(group: Ipv6Address, source: Ipv6Address): void {
    if (!isIpv6Multicast(group))
      throw errnoError('EINVAL', `${ipv6ToString(group)} is not a multicast group`);
    this.changeListening(group, () => this.listening.addSource(group, source));
  }

  /** Undoes one `addGroupSource` (BLOCK_OLD_SOURCES, or leaving). */
  dropGroupSource(group: Ipv6Address, source: Ipv6Address): void {
    this.changeListening(group, () => this.listening.dropSource(group, source));
  }

  /** Applies a membership change, then puts the group on the interfaces or takes it off. */
  private changeListening(group: Ipv6Address, apply: () => void): void {
    const was = this.listening.isMember(group);
    apply();
    const is = this.listening.isMember(group);
    if (was === is) return;
    for (const iface of this.ifaces) {
      if (is) iface.groups.add(group);
      else if (!this.interfaceNeeds(iface, group)) iface.groups.delete(group);
    }
  }

  /**
   * All-nodes and the solicited-node groups of the interface's addresses, which NDP needs itself, and
   * all-routers while the stack answers router solicitations.
   */
  private interfaceNeeds(iface: Ipv6Interface, group: Ipv6Address): boolean {
    return (
      group === IPV6_ALL_NODES ||
      (group === IPV6_ALL_ROUTERS && this.ndp.routerSolicited !== undefined) ||
      iface.addresses.some((a) => a.state !== 'duplicate' && solicitedNodeAddress(a.address) === group)
    );
  }

  /**
   * Upper-layer confirmation (RFC 4861 §7.3.1): a transport saw `dst` make progress (TCP: an ACK of new
   * data), so the neighbor that is the next hop toward it is REACHABLE again without a solicitation.
   */
  confirmNeighbour(dst: Ipv6Address): void {
    if (this.isLocalAddress(dst)) return;
    const route = this.route(dst, undefined);
    if (route !== undefined) route.iface.neighbors.confirm(route.nextHop);
  }

  // ---------------------------------------------------------------------------------------------------
  // Send

  /** Sends one packet. 'ok' or the errno of a local failure; never throws for network conditions. */
  send(options: Ipv6SendOptions, payload: Ipv6PayloadWriter | Uint8Array): IpSendStatus {
    if (this.closed) return 'ENETUNREACH';
    const writer = payload instanceof Uint8Array ? new BytesWriter(payload) : payload;
    const { dst } = options;
    let iface: Ipv6Interface | undefined;
    let nextHop = dst;
    let mac = options.mac;
    if (this.isLocalAddress(dst)) {
      return this.sendLocal(options, writer);
    }
    if (isIpv6Multicast(dst)) {
      iface = options.interface ?? this.ifaces[0];
      mac = ipv6MulticastMac(dst);
    } else {
      const route = this.route(dst, options.interface);
      if (route === undefined) return 'ENETUNREACH';
      iface = route.iface;
      nextHop = route.nextHop;
    }
    if (iface === undefined) return 'ENETUNREACH';
    let src = options.src;
    if (src === undefined) src = this.sourceFor(iface, dst);
    else if (src !== 0n && !iface.find(src) && !iface.terminateAnyDestination) return 'EADDRNOTAVAIL';
    if (src === undefined) return 'EADDRNOTAVAIL';
    const extra = options.hopByHop?.length ?? 0;
    const length = extra + writer.length;
    if (length > 0xffff) return 'EMSGSIZE';
    const header = {
      trafficClass: options.trafficClass ?? 0,
      flowLabel: 0,
      nextHeader: options.hopByHop ? IPV6_NEXT_HOP_BY_HOP : options.nextHeader,
      hopLimit: options.hopLimit ?? iface.hopLimit,
      src,
      dst,
    };
    const mtu = isIpv6Multicast(dst) ? iface.mtu : Math.min(iface.mtu, this.mtuFor(dst));
    const segmentSize = options.segmentSize ?? 0;
    if (segmentSize > 0 && options.nextHeader === IPV6_NEXT_TCP && extra === 0 && writer.length >= 20) {
      const sent = this.sendSegmented(iface, header, writer, mtu, segmentSize, nextHop, mac);
      if (sent !== undefined) return sent;
    }
    if (IPV6_HEADER_LENGTH + length <= mtu) {
      const frame = allocateFrame(ETHERNET_HEADER_LENGTH + IPV6_HEADER_LENGTH + length);
      emitIpv6Header(header, length, frame, ETHERNET_HEADER_LENGTH);
      let offset = ETHERNET_HEADER_LENGTH + IPV6_HEADER_LENGTH;
      if (options.hopByHop) {
        frame.set(options.hopByHop, offset);
        offset += extra;
      }
      writer.write(frame, offset, src, dst);
      this.sendOrLoop(options, iface, frame, nextHop, mac);
      return 'ok';
    }
    // RFC 8200 §5: the source fragments. Hop-by-Hop stays in every fragment (the unfragmentable part).
    const whole = new Uint8Array(writer.length);
    writer.write(whole, 0, src, dst);
    const room = Math.floor((mtu - IPV6_HEADER_LENGTH - extra - IPV6_FRAGMENT_HEADER_LENGTH) / 8) * 8;
    if (room <= 0) return 'EMSGSIZE';
    this.nextFragmentId = (this.nextFragmentId + 1 + (this.random.next() & 0xff)) >>> 0;
    const identification = this.nextFragmentId;
    for (let offset = 0; offset < whole.length; offset += room) {
      const piece = whole.subarray(offset, Math.min(whole.length, offset + room));
      const more = offset + piece.length < whole.length;
      const fragmentLength = extra + IPV6_FRAGMENT_HEADER_LENGTH + piece.length;
      const frame = new Uint8Array(ETHERNET_HEADER_LENGTH + IPV6_HEADER_LENGTH + fragmentLength);
      let o = ETHERNET_HEADER_LENGTH;
      o += emitIpv6Header(
        { ...header, nextHeader: options.hopByHop ? IPV6_NEXT_HOP_BY_HOP : IPV6_NEXT_FRAGMENT },
        fragmentLength,
        frame,
        o,
      );
      if (options.hopByHop) {
        frame.set(options.hopByHop, o);
        frame[o] = IPV6_NEXT_FRAGMENT;
        o += extra;
      }
      o += emitIpv6FragmentHeader(
        { nextHeader: options.nextHeader, offset, moreFragments: more, identification },
        frame,
        o,
      );
      frame.set(piece, o);
      this.sendOrLoop(options, iface, frame, nextHop, mac);
    }
    return 'ok';
  }

  /**
   * Transmits one frame; a group packet is first copied for this host's own members when asked
   * (IPV6_MULTICAST_LOOP; Linux's ip6_finish_output2 loops each packet, each fragment, before the device
   * sees it) and received a moment later on the interface it left by. A group packet with hop limit 0
   * reaches this host's members only: it never leaves the host (as IPv4's TTL 0, RFC 1112 §6.1).
   */
  private sendOrLoop(
    options: Ipv6SendOptions,
    iface: Ipv6Interface,
    frame: Uint8Array,
    nextHop: Ipv6Address,
    mac: MacAddress | undefined,
  ): void {
    const dst = options.dst;
    if (options.multicastLoop === true && isIpv6Multicast(dst) && iface.groups.has(dst)) {
      const copy = frame.slice(ETHERNET_HEADER_LENGTH);
      this.ctx.clock.setTimer(0, () => {
        if (!this.closed && this.ifaces.includes(iface)) this.receivePacket(iface, copy, false, true);
      });
    }
    if (options.hopLimit === 0 && isIpv6Multicast(dst)) {
      this.ctx.drop('ipv6', 'multicast-hop-limit-0');
      return;
    }
    this.transmit(iface, frame, nextHop, mac);
  }

  /**
   * A TCP packet sent with a segment size (TSO/GSO, as ipv4-offload.ts does for IPv4): when its payload
   * is longer than one segment may carry (the smaller of `segmentSize` and what the MTU holds behind its
   * headers), it goes as one frame to a device that cuts IPv6 TCP itself, or is cut here into ordinary
   * segments (per-segment Payload Length, sequence number, checksum; PSH and FIN on the last only).
   * Undefined: it needs no cutting.
   */
  private sendSegmented(
    iface: Ipv6Interface,
    header: Ipv6Header,
    writer: Ipv6PayloadWriter,
    mtu: number,
    segmentSize: number,
    nextHop: Ipv6Address,
    mac: MacAddress | undefined,
  ): IpSendStatus | undefined {
    const length = writer.length;
    const tcpStart = ETHERNET_HEADER_LENGTH + IPV6_HEADER_LENGTH;
    const offload = iface.device.offload;
    // The device will cut it (when it is more than one segment): its checksum is left partial, and room
    // is left in front for what the device writes there (a TAP's virtio-net header), saving a copy.
    // Asked as a yes or no: the neighbour's MAC as a 48-bit number would be a heap number per frame.
    const deviceTso =
      (mac !== undefined || iface.neighbors.knows(nextHop)) &&
      offload !== undefined &&
      IPV6_HEADER_LENGTH + length <= (offload.tcp6SegmentationMax ?? 0);
    const headroom = deviceTso ? offload.headroom : 0;
    // A device that cuts the segment in software gives it back at once: carved where that costs least.
    const frame =
      deviceTso && offload.softwareSegmentation === true
        ? allocateStagedFrame(tcpStart + length, headroom)
        : allocateFrame(tcpStart + length, headroom);
    emitIpv6Header(header, length, frame, ETHERNET_HEADER_LENGTH);
    writer.write(frame, tcpStart, header.src, header.dst, deviceTso);
    const tcpHeaderLength = tcpHeaderLengthAt(frame, tcpStart);
    const perSegment = Math.min(segmentSize, mtu - IPV6_HEADER_LENGTH - tcpHeaderLength);
    if (perSegment <= 0) {
      recycleFrame(frame);
      return 'EMSGSIZE';
    }
    if (deviceTso) {
      // Linux's CHECKSUM_PARTIAL: the field holds the pseudo-header sum (RFC 8200 §8.1), not inverted.
      const sum = pseudoHeaderSum(header.src, header.dst, IPV6_NEXT_TCP, length);
      frame[tcpStart + TCP_CHECKSUM_OFFSET] = sum >>> 8;
      frame[tcpStart + TCP_CHECKSUM_OFFSET + 1] = sum & 0xff;
      const options = this.tsoOptions;
      options.checksumStart = tcpStart;
      options.checksumOffset = TCP_CHECKSUM_OFFSET;
      options.headroom = headroom;
      // The device cuts only what needs cutting: a segment whose payload fits one piece goes plain.
      options.segmentSize = length - tcpHeaderLength > perSegment ? perSegment : 0;
      if (options.segmentSize === 0 && IPV6_HEADER_LENGTH + length > mtu) {
        recycleFrame(frame);
        return undefined;
      }
      if (mac !== undefined) {
        iface.port.send(frame, mac, ETHERTYPE_IPV6, options);
      } else {
        // Known a moment ago (`knows`): the cache writes the destination from the MAC's 24-bit halves.
        iface.port.writeHeader(frame, MAC_ZERO, ETHERTYPE_IPV6);
        iface.neighbors.addressFrame(nextHop, frame);
        iface.port.sendFrame(frame, options);
      }
      return 'ok';
    }
    if (length - tcpHeaderLength <= perSegment) {
      if (IPV6_HEADER_LENGTH + length > mtu) return undefined;
      this.transmit(iface, frame, nextHop, mac);
      return 'ok';
    }
    const pieces = segmentTcpPacket(
      frame.subarray(ETHERNET_HEADER_LENGTH),
      perSegment,
      ETHERNET_HEADER_LENGTH,
    );
    if (pieces === undefined) return 'EMSGSIZE';
    for (const piece of pieces) this.transmit(iface, piece, nextHop, mac);
    return 'ok';
  }

  /**
   * Largest TCP packet (IPv6 header included) that may be handed to `send` toward `dst` as one segment
   * with `segmentSize`: up to 65535 when the outgoing device cuts IPv6 TCP itself, else `mtuFor(dst)`.
   */
  tsoSizeFor(dst: Ipv6Address): number {
    const mtu = this.mtuFor(dst);
    if (this.isLocalAddress(dst)) return mtu;
    const offload = this.route(dst, undefined)?.iface.device.offload;
    const max = offload?.tcp6SegmentationMax ?? 0;
    return max > mtu ? Math.min(max, 65535) : mtu;
  }

  /** Packets to our own addresses come back through the clock, as through Linux's loopback. */
  private sendLocal(options: Ipv6SendOptions, writer: Ipv6PayloadWriter): IpSendStatus {
    const src = options.src ?? options.dst;
    const packet = new Uint8Array(IPV6_HEADER_LENGTH + writer.length);
    emitIpv6Header(
      {
        trafficClass: 0,
        flowLabel: 0,
        nextHeader: options.nextHeader,
        hopLimit: options.hopLimit ?? this.defaultHopLimit,
        src,
        dst: options.dst,
      },
      writer.length,
      packet,
      0,
    );
    writer.write(packet, IPV6_HEADER_LENGTH, src, options.dst);
    const iface = this.ifaces.find((i) => i.hasAddress(options.dst)) ?? this.loopback;
    this.ctx.clock.setTimer(0, () => {
      if (!this.closed) this.receivePacket(iface, packet, false, true);
    });
    return 'ok';
  }

  private transmit(
    iface: Ipv6Interface,
    frame: Uint8Array,
    nextHop: Ipv6Address,
    mac: MacAddress | undefined,
  ): void {
    if (mac !== undefined) {
      iface.port.send(frame, mac, ETHERTYPE_IPV6);
      return;
    }
    iface.port.writeHeader(frame, MAC_ZERO, ETHERTYPE_IPV6);
    iface.neighbors.send(nextHop, frame);
  }

  /** Next hop for `dst`: on-link, a redirect's target, or a default router (RFC 4861 §5.2). */
  private route(
    dst: Ipv6Address,
    preferred: Ipv6Interface | undefined,
  ): { iface: Ipv6Interface; nextHop: Ipv6Address } | undefined {
    const now = this.ctx.clock.now();
    const candidates = preferred ? [preferred] : this.ifaces;
    for (const iface of candidates) {
      const redirected = this.ndp.redirects.get(dst);
      if (redirected !== undefined) return { iface, nextHop: redirected };
      if (iface.isOnLink(dst, now)) return { iface, nextHop: dst };
    }
    for (const iface of candidates) {
      const routers = iface.defaultRouters(now);
      // RFC 4861 §6.3.6: prefer a router known reachable; else round-robin would do, the first will.
      const router = routers.find((r) => iface.neighbors.lookup(r) !== undefined) ?? routers[0];
      if (router !== undefined) return { iface, nextHop: router };
    }
    return undefined;
  }

  /** RFC 6724 in brief: link-local for link-local destinations, else a preferred global address. */
  private sourceFor(iface: Ipv6Interface, dst: Ipv6Address): Ipv6Address | undefined {
    const usable = iface.addresses.filter((a) => a.state === 'preferred');
    if (isIpv6LinkLocal(dst) || (isIpv6Multicast(dst) && ((dst >> 112n) & 0xfn) <= 2n)) {
      return usable.find((a) => a.origin === 'link-local')?.address;
    }
    // RFC 6724 §5 rule 8: of the global addresses, the one sharing the longest prefix with `dst`.
    let best: Ipv6Address | undefined;
    let bestLength = -1;
    for (const a of usable) {
      if (a.origin === 'link-local') continue;
      const length = commonPrefixLength(a.address, dst);
      if (length > bestLength) {
        best = a.address;
        bestLength = length;
      }
    }
    return best ?? usable[0]?.address;
  }

  private interfaceIdFor(iface: Ipv6Interface, prefix: Ipv6Address): bigint {
    if (this.interfaceIds === 'eui64') return eui64InterfaceId(iface.device.mac);
    // RFC 7217 §5: RID = F(Prefix, Net_Iface, Network_ID, DAD_Counter, secret_key), F a keyed PRF.
    const input = new Uint8Array(8 + 6 + 1);
    let p = prefix >> 64n;
    for (let i = 7; i >= 0; i--) {
      input[i] = Number(p & 0xffn);
      p >>= 8n;
    }
    let mac = iface.device.mac;
    for (let i = 13; i >= 8; i--) {
      input[i] = mac % 256;
      mac = Math.floor(mac / 256);
    }
    input[14] = iface.addresses.filter((a) => a.state === 'duplicate').length; // DAD_Counter
    const [lo, hi] = sipHash24(this.idKey, input);
    return (BigInt(hi! >>> 0) << 32n) | BigInt(lo! >>> 0);
  }

  // ---------------------------------------------------------------------------------------------------
  // Receive

  /**
   * True while a frame the device vouches for is processed (a TAP's virtio header NEEDS_CSUM or
   * DATA_VALID: the kernel left the transport checksum to be completed, or checked it), so transports
   * skip verification as IPv4's input does; false for reassembled packets.
   */
  private checksumTrusted = false;
  /**
   * While a frame is processed: the segment size of a large (GSO) TCP packet the device handed over
   * whole (ReceivedFrameInfo.segmentSize), which forwarding must cut back into segments; else 0.
   */
  private receivedSegmentSize = 0;

  private receive(
    iface: Ipv6Interface,
    bytes: Uint8Array,
    linkBroadcast: boolean,
    info?: ReceivedFrameInfo,
  ): FrameDisposition {
    this.checksumTrusted = info?.checksumTrusted === true;
    this.receivedSegmentSize = info?.segmentSize ?? 0;
    try {
      return this.receivePacket(iface, bytes, linkBroadcast, false);
    } finally {
      this.checksumTrusted = false;
      this.receivedSegmentSize = 0;
    }
  }

  private receivePacket(
    iface: Ipv6Interface,
    bytes: Uint8Array,
    _linkBroadcast: boolean,
    local: boolean,
  ): FrameDisposition {
    const result = parseIpv6(bytes);
    if (!result.ok) {
      this.ctx.drop('ipv6', result.error.kind);
      return FRAME_RELEASED;
    }
    const packet = result.value;
    const datagram = bytes.subarray(0, IPV6_HEADER_LENGTH + packet.payloadLength);
    if (isIpv6Multicast(packet.src) || (!local && packet.src === IPV6_LOOPBACK)) {
      this.ctx.drop('ipv6', 'bad-source');
      return FRAME_RELEASED;
    }
    const dst = packet.dst;
    let destination: 'unicast' | 'multicast';
    if (isIpv6Multicast(dst)) {
      if (!iface.groups.has(dst)) {
        this.ctx.drop('ipv6', 'multicast-not-joined');
        return FRAME_RELEASED;
      }
      // RFC 3810 §4.2: the interface's source filter (source-specific joins only: INCLUDE mode); ICMPv6
      // always passes (an MLD querier's group-specific queries come from no listed source).
      if (
        packet.nextHeader !== IPV6_NEXT_ICMPV6 &&
        this.listening.isMember(dst) &&
        !this.listening.accepts(dst, packet.src) &&
        !this.interfaceNeeds(iface, dst)
      ) {
        this.ctx.drop('ipv6', 'multicast-source-filtered');
        return FRAME_RELEASED;
      }
      destination = 'multicast';
    } else if (local || iface.hasAddress(dst) || this.isLocalAddress(dst)) {
      destination = 'unicast';
    } else if (
      iface.terminateAnyDestination &&
      (packet.nextHeader === IPV6_NEXT_TCP ||
        packet.nextHeader === IPV6_NEXT_UDP ||
        (packet.nextHeader === IPV6_NEXT_ICMPV6 && this.echoForOthers !== undefined))
    ) {
      // A user-mode gateway terminates its guests' TCP and UDP whatever their destination, and takes
      // their echo requests (receiveIcmpv6 lets nothing else of ICMPv6 through for others).
      destination = 'unicast';
    } else if (iface.find(dst)?.state === 'tentative') {
      // RFC 4862 §5.4: only DAD's own messages may reach a tentative address.
      if (packet.nextHeader !== IPV6_NEXT_ICMPV6) {
        this.ctx.drop('ipv6', 'tentative-destination');
        return FRAME_RELEASED;
      }
      destination = 'unicast';
    } else if (this.forwarding) {
      // Another device owns it now (or will, once resolution sends it): not released.
      this.forward(iface, packet, datagram);
      return;
    } else {
      this.ctx.drop('ipv6', 'not-for-us');
      return FRAME_RELEASED;
    }
    return this.processChain(iface, packet, datagram, destination, local);
  }

  /**
   * Walks the extension headers (RFC 8200 §4) and delivers the upper layer. Returns what the upper layer
   * answered (FRAME_RELEASED or FRAME_HELD, see seams.ts), and FRAME_RELEASED for a packet dropped here
   * (an ICMPv6 error about it copies its quote before returning); nothing for a fragment (the reassembler
   * keeps views of the fragments it waits with).
   */
  private processChain(
    iface: Ipv6Interface,
    packet: Ipv6Packet,
    datagram: Uint8Array,
    destination: 'unicast' | 'multicast',
    local: boolean,
  ): FrameDisposition {
    const payload = packet.payload;
    let next = packet.nextHeader;
    let offset = 0;
    /** Offset (in the packet) of the Next Header field naming `next`: Parameter Problem points there. */
    let nextField = 6;
    let first = true;
    for (;;) {
      if (next === IPV6_NEXT_HOP_BY_HOP && !first) {
        this.parameterProblem(
          iface,
          packet,
          datagram,
          ICMPV6_UNRECOGNIZED_NEXT_HEADER,
          nextField,
          'hop-by-hop-not-first',
        );
        return FRAME_RELEASED;
      }
      first = false;
      if (
        next !== IPV6_NEXT_HOP_BY_HOP &&
        next !== IPV6_NEXT_DESTINATION_OPTIONS &&
        next !== IPV6_NEXT_ROUTING &&
        next !== IPV6_NEXT_FRAGMENT
      )
        break;
      const header = readIpv6ExtensionHeader(payload, offset, next);
      if (!header.ok) {
        this.ctx.drop('ipv6', 'truncated-extension-header');
        return FRAME_RELEASED;
      }
      if (next === IPV6_NEXT_HOP_BY_HOP || next === IPV6_NEXT_DESTINATION_OPTIONS) {
        const options = parseIpv6Options(header.value);
        if (!options.ok) {
          this.parameterProblem(
            iface,
            packet,
            datagram,
            ICMPV6_ERRONEOUS_HEADER_FIELD,
            IPV6_HEADER_LENGTH + offset + 1,
            'bad-option-length',
          );
          return FRAME_RELEASED;
        }
        for (const option of options.value) {
          if (next === IPV6_NEXT_HOP_BY_HOP && option.type === IPV6_OPTION_ROUTER_ALERT) continue;
          const action = ipv6UnknownOptionAction(option.type);
          if (action === 'skip') continue;
          const pointer = IPV6_HEADER_LENGTH + option.offset;
          if (action === 'discard') this.ctx.drop('ipv6', 'unknown-option');
          else if (action === 'discard-and-report' || destination === 'unicast') {
            this.parameterProblem(
              iface,
              packet,
              datagram,
              ICMPV6_UNRECOGNIZED_OPTION,
              pointer,
              'unknown-option',
              true,
            );
          } else this.ctx.drop('ipv6', 'unknown-option');
          return FRAME_RELEASED;
        }
      }
      if (next === IPV6_NEXT_ROUTING) {
        const routing = parseIpv6RoutingHeader(header.value);
        if (routing.segmentsLeft > 0) {
          // No routing type is implemented (type 0 is deprecated, RFC 5095 §3): RFC 8200 §4.4.
          this.parameterProblem(
            iface,
            packet,
            datagram,
            ICMPV6_ERRONEOUS_HEADER_FIELD,
            IPV6_HEADER_LENGTH + offset + 2,
            'unknown-routing-type',
          );
          return FRAME_RELEASED;
        }
      }
      if (next !== IPV6_NEXT_FRAGMENT) {
        nextField = IPV6_HEADER_LENGTH + offset;
        offset += header.value.length;
        next = header.value.nextHeader;
        continue;
      }
      // A Fragment header.
      {
        const fragment = parseIpv6FragmentHeader(header.value);
        const data = payload.subarray(offset + IPV6_FRAGMENT_HEADER_LENGTH);
        if (fragment.offset === 0 && !fragment.moreFragments) {
          // RFC 6946 / RFC 8021: an atomic fragment is a whole packet; process it now.
          nextField = IPV6_HEADER_LENGTH + offset;
          offset += IPV6_FRAGMENT_HEADER_LENGTH;
          next = fragment.nextHeader;
          continue;
        }
        if (fragment.moreFragments && data.length % 8 !== 0) {
          // RFC 8200 §4.5: point at the Payload Length field.
          this.parameterProblem(iface, packet, datagram, ICMPV6_ERRONEOUS_HEADER_FIELD, 4, 'fragment-length');
          return FRAME_RELEASED;
        }
        if (fragment.offset + data.length > 0xffff) {
          this.parameterProblem(
            iface,
            packet,
            datagram,
            ICMPV6_ERRONEOUS_HEADER_FIELD,
            IPV6_HEADER_LENGTH + offset + 2,
            'fragment-beyond-65535',
          );
          return FRAME_RELEASED;
        }
        const outcome = this.reassembler.add({
          src: packet.src,
          dst: packet.dst,
          identification: fragment.identification,
          offset: fragment.offset,
          moreFragments: fragment.moreFragments,
          nextHeader: fragment.nextHeader,
          data,
          packet: datagram,
        });
        if (outcome.kind === 'dropped') this.ctx.drop('ipv6', outcome.reason);
        if (outcome.kind !== 'complete') return;
        // The reassembled packet: the fixed header again, then what followed the Fragment header.
        const whole = new Uint8Array(IPV6_HEADER_LENGTH + outcome.value.data.length);
        emitIpv6Header(
          { ...packet, nextHeader: outcome.value.nextHeader },
          outcome.value.data.length,
          whole,
          0,
        );
        whole.set(outcome.value.data, IPV6_HEADER_LENGTH);
        const reparsed = parseIpv6(whole);
        this.checksumTrusted = false;
        // The whole packet is a copy, but the fragment's frame stays unreleased as on every fragment's
        // path: which of the views the reassembler took are still held is not known here.
        if (reparsed.ok) this.processChain(iface, reparsed.value, whole, destination, local);
        return;
      }
    }
    const upper = payload.subarray(offset);
    if (next === IPV6_NEXT_NONE) return FRAME_RELEASED;
    if (next === IPV6_NEXT_ICMPV6) return this.receiveIcmpv6(iface, packet, datagram, upper, destination);
    if (iface.find(packet.dst)?.state === 'tentative') {
      this.ctx.drop('ipv6', 'tentative-destination');
      return FRAME_RELEASED;
    }
    const handler = this.handlers.get(next);
    if (handler === undefined) {
      this.parameterProblem(
        iface,
        packet,
        datagram,
        ICMPV6_UNRECOGNIZED_NEXT_HEADER,
        nextField,
        'unknown-next-header',
      );
      return FRAME_RELEASED;
    }
    return handler.receive({
      src: packet.src,
      dst: packet.dst,
      hopLimit: packet.hopLimit,
      trafficClass: packet.trafficClass,
      nextHeader: next,
      payload: upper,
      interface: iface,
      destination,
      datagram,
      checksumOffloaded: local || this.checksumTrusted,
    });
  }

  /**
   * An ICMPv6 error about a packet a transport received (UDP's port unreachable, RFC 4443 §3.1 code 4),
   * within the error rate limit and RFC 4443 §2.4(e)'s rules.
   */
  sendErrorAbout(received: Ipv6ReceivedPacket, type: number, code: number): void {
    const packet = parseIpv6(received.datagram);
    if (packet.ok) this.sendError(received.interface, packet.value, received.datagram, type, code, 0);
  }

  private parameterProblem(
    iface: Ipv6Interface,
    packet: Ipv6Packet,
    datagram: Uint8Array,
    code: number,
    pointer: number,
    reason: string,
    evenToMulticast = false,
  ): void {
    this.ctx.drop('ipv6', reason);
    this.sendError(iface, packet, datagram, ICMPV6_PARAMETER_PROBLEM, code, pointer, evenToMulticast);
  }

  /**
   * An ICMPv6 error about `packet` (RFC 4443 §2.4): never about an ICMPv6 error, nor about a packet to a
   * multicast address (except Packet Too Big and Parameter Problem code 2, `evenToMulticast`), nor to an
   * unspecified or multicast source; at most the rate limit allows; quoting as much as fits 1280 bytes.
   */
  sendError(
    iface: Ipv6Interface,
    packet: Ipv6Packet,
    datagram: Uint8Array,
    type: number,
    code: number,
    parameter: number,
    evenToMulticast = false,
    source?: Ipv6Address,
  ): boolean {
    if (packet.src === 0n || isIpv6Multicast(packet.src)) return false;
    if (isIpv6Multicast(packet.dst) && !evenToMulticast) return false;
    const chain = walkIpv6Headers(packet.payload, packet.nextHeader);
    if (chain.ok && chain.value.upperLayerProtocol === IPV6_NEXT_ICMPV6) {
      const t = packet.payload[chain.value.upperLayerOffset];
      if (t === undefined || isIcmpv6Error(t)) return false;
    }
    if (!this.errorLimit.take()) {
      this.ctx.drop('icmpv6', 'error-rate-limit');
      return false;
    }
    const original = datagram.subarray(0, Math.min(datagram.length, MAX_QUOTE));
    let message: Icmpv6Message;
    if (type === ICMPV6_PARAMETER_PROBLEM)
      message = { kind: 'parameter-problem', code, pointer: parameter, original };
    else if (type === ICMPV6_PACKET_TOO_BIG) message = { kind: 'packet-too-big', mtu: parameter, original };
    else if (type === ICMPV6_TIME_EXCEEDED) message = { kind: 'time-exceeded', code, original };
    else message = { kind: 'destination-unreachable', code, original };
    const src =
      source ?? (isIpv6Multicast(packet.dst) || !this.isLocalAddress(packet.dst) ? undefined : packet.dst);
    return (
      this.send(
        { src, dst: packet.src, nextHeader: IPV6_NEXT_ICMPV6, interface: iface },
        new Icmpv6Writer(message),
      ) === 'ok'
    );
  }

  /**
   * An ICMPv6 error about a datagram only known by its quote (a gateway translating what its upstream
   * reported: RFC 4443 §3.1 codes), sent from `source` (the address the guest spoke to, or the gateway's
   * own), under the same rate limit and §2.4(e) rules as every error. True when it was sent.
   */
  sendErrorAboutQuote(
    iface: Ipv6Interface,
    quote: Uint8Array,
    type: number,
    code: number,
    source: Ipv6Address,
  ): boolean {
    const packet = parseQuotedIpv6(quote);
    return packet.ok && this.sendError(iface, packet.value, quote, type, code, 0, false, source);
  }

  /** An echo reply from `src` (an address of ours or, for a gateway, the one the guest pinged). */
  sendEchoReply(
    iface: Ipv6Interface,
    src: Ipv6Address,
    dst: Ipv6Address,
    identifier: number,
    sequence: number,
    data: Uint8Array,
  ): IpSendStatus {
    return this.send(
      { src, dst, nextHeader: IPV6_NEXT_ICMPV6, interface: iface },
      new Icmpv6Writer({ kind: 'echo-reply', identifier, sequence, data }),
    );
  }

  /**
   * FRAME_RELEASED for every message whose handling keeps no view of it (a reply or solicitation it
   * answers is written into its own frame before this returns; neighbour discovery and MLD read numbers
   * out of it); nothing for an error, whose quote goes to the transport it concerns.
   */
  private receiveIcmpv6(
    iface: Ipv6Interface,
    packet: Ipv6Packet,
    datagram: Uint8Array,
    bytes: Uint8Array,
    destination: 'unicast' | 'multicast',
  ): FrameDisposition {
    const result = parseIcmpv6(bytes, packet.src, packet.dst);
    if (!result.ok) {
      this.ctx.drop('icmpv6', result.error.kind);
      return FRAME_RELEASED;
    }
    const message = result.value;
    const tentative = iface.find(packet.dst)?.state === 'tentative';
    if (tentative && message.kind !== 'neighbor-solicitation' && message.kind !== 'neighbor-advertisement') {
      this.ctx.drop('ipv6', 'tentative-destination');
      return FRAME_RELEASED;
    }
    if (
      destination === 'unicast' &&
      iface.find(packet.dst) === undefined &&
      !this.isLocalAddress(packet.dst)
    ) {
      // Only a gateway-mode interface gets here with an address of others (receivePacket); one of our
      // own addresses still tentative (DAD's messages reach it) is not an other's.
      if (message.kind !== 'echo-request' || this.echoForOthers === undefined) {
        this.ctx.drop('icmpv6', 'not-for-us');
        return FRAME_RELEASED;
      }
      this.echoForOthers({
        src: packet.src,
        dst: packet.dst,
        interface: iface,
        identifier: message.identifier,
        sequence: message.sequence,
        data: message.data.slice(),
        hopLimit: packet.hopLimit,
        quote: datagram.slice(0, MAX_QUOTE),
      });
      return FRAME_RELEASED;
    }
    switch (message.kind) {
      case 'echo-request': {
        const src = destination === 'multicast' ? undefined : packet.dst;
        this.send(
          { src, dst: packet.src, nextHeader: IPV6_NEXT_ICMPV6, interface: iface },
          new Icmpv6Writer({ ...message, kind: 'echo-reply' }),
        );
        return FRAME_RELEASED;
      }
      case 'echo-reply': {
        if (message.identifier !== this.pingIdentifier) return FRAME_RELEASED;
        const pending = this.pings.get(message.sequence);
        if (pending === undefined) return FRAME_RELEASED;
        this.pings.delete(message.sequence);
        pending.timer?.cancel();
        pending.resolve({
          from: packet.src,
          rtt: this.ctx.clock.now() - pending.sentAt,
          hopLimit: packet.hopLimit,
          bytes: bytes.length,
          identifier: message.identifier,
          sequence: message.sequence,
        });
        return FRAME_RELEASED;
      }
      case 'packet-too-big':
        this.receivePacketTooBig(packet.src, message.mtu, message.original);
        return;
      case 'destination-unreachable':
      case 'time-exceeded':
      case 'parameter-problem':
        this.receiveError(packet.src, message.kind, message.code, message.original);
        return;
      case 'neighbor-solicitation':
      case 'neighbor-advertisement':
      case 'router-solicitation':
      case 'router-advertisement':
      case 'redirect':
        this.ndp.receive(iface, packet.src, packet.dst, packet.hopLimit, bytes[1]!, message);
        return FRAME_RELEASED;
      case 'mld-query':
        if (message.sources === undefined && isIpv6LinkLocal(packet.src) && packet.hopLimit === 1) {
          // RFC 3810 §8.2.1: an MLDv1 query; Older Version Querier Present Timeout, 2 x 125 s + 10 s.
          iface.mldv1QuerierUntil = this.ctx.clock.now() + 260_000;
        }
        this.answerMldQuery(
          iface,
          packet.src,
          packet.hopLimit,
          message.maxResponseDelay,
          message.group,
          message.sources,
        );
        return FRAME_RELEASED;
      default:
        // A message no code here takes (an MLD report of another listener): read, nothing kept.
        void datagram;
        return FRAME_RELEASED;
    }
  }

  /**
   * An MLD query (RFC 3810 §6.2, which MLDv1 queriers also get answered by): a report of our groups after
   * a random delay up to Maximum Response Delay, so a snooping switch keeps forwarding our solicited-node
   * groups. Queries must come from a link-local address with hop limit 1 (§5.1.14); one for a specific
   * group we are not in needs no answer.
   */
  private answerMldQuery(
    iface: Ipv6Interface,
    src: Ipv6Address,
    hopLimit: number,
    maxResponseDelay: number,
    group: Ipv6Address,
    sources: readonly Ipv6Address[] = [],
  ): void {
    if (!isIpv6LinkLocal(src) || hopLimit !== 1) {
      this.ctx.drop('mld', 'bad-query');
      return;
    }
    if (group !== 0n && !iface.groups.has(group)) return;
    const delay = Math.floor(this.random.float() * maxResponseDelay);
    this.ctx.clock.setTimer(delay, () => {
      if (this.closed || !this.ifaces.includes(iface)) return;
      // Current-state records (§5.2.12): an application's group with its filter, the interface's own
      // groups as EXCLUDE {} (every source); all-nodes is never reported (§6).
      const groups = group === 0n ? [...iface.groups] : iface.groups.has(group) ? [group] : [];
      // A group-and-source-specific query (§6.2) is answered with the queried sources received.
      const records = groups
        .filter((g) => g !== IPV6_ALL_NODES)
        .flatMap((g) => {
          if (!this.interfaceNeeds(iface, g)) {
            const record = this.listening.currentState(g, sources);
            return record === undefined ? [] : [record];
          }
          return sources.length > 0
            ? [{ recordType: MLD_MODE_IS_INCLUDE, group: g, sources: [...sources] }]
            : [{ recordType: MLD_MODE_IS_EXCLUDE, group: g, sources: [] }];
        });
      if (records.length > 0) this.ndp.sendMldReport(iface, records);
    });
  }

  /**
   * RFC 8201 §4: Packet Too Big lowers the path MTU toward the quoted packet's destination, never below
   * 1280, and only for packets we sent (the quote's source is ours). When the quoted packet's protocol
   * checks such reports against its own state (TCP: the quoted sequence number must be in flight, RFC
   * 5927 §4.1) it gets the report and learns the MTU through `learnPathMtu` only if the quote holds up;
   * for the others (ICMPv6 echo) the MTU is learned at once.
   */
  private receivePacketTooBig(reporter: Ipv6Address, mtu: number, original: Uint8Array): void {
    const quoted = parseQuotedIpv6(original);
    if (!quoted.ok || !this.isLocalAddress(quoted.value.src)) {
      this.ctx.drop('icmpv6', 'packet-too-big-not-ours');
      return;
    }
    const dst = quoted.value.dst;
    const reported = Math.max(IPV6_MIN_MTU, mtu);
    const upper = this.quotedUpperLayer(quoted.value);
    const handler = upper === undefined ? undefined : this.handlers.get(upper.protocol);
    if (upper !== undefined && handler?.receiveError !== undefined) {
      handler.receiveError(
        this.errorReport(reporter, ICMPV6_PACKET_TOO_BIG, 0, quoted.value, upper, {
          reportedMtu: reported,
          datagramLength: IPV6_HEADER_LENGTH + quoted.value.payloadLength,
        }),
      );
      return;
    }
    this.learnPathMtu(dst, reported);
  }

  /**
   * Lowers the path MTU toward `dst` to `mtu` (floored at 1280, RFC 8200 §5) for `pathMtuExpiryMs`, and
   * returns the MTU now in effect. A value above the current estimate changes nothing (RFC 8201 §4: the
   * estimate only decreases on Packet Too Big).
   */
  learnPathMtu(dst: Ipv6Address, mtu: number): number {
    const current = this.mtuFor(dst);
    const next = Math.max(IPV6_MIN_MTU, mtu);
    if (next >= current) return current;
    this.pathMtus.set(dst, { mtu: next, until: this.ctx.clock.now() + this.pathMtuExpiryMs });
    this.ctx.note(`IPv6: path MTU to ${ipv6ToString(dst)} is now ${next}`);
    return next;
  }

  /** The upper-layer protocol of a quoted packet and its bytes (at least 8 needed by any transport). */
  private quotedUpperLayer(quoted: Ipv6Packet): { protocol: number; bytes: Uint8Array } | undefined {
    const chain = walkIpv6Headers(quoted.payload, quoted.nextHeader);
    if (!chain.ok) return undefined;
    return {
      protocol: chain.value.upperLayerProtocol,
      bytes: quoted.payload.subarray(chain.value.upperLayerOffset),
    };
  }

  /** An ICMPv6 error as the transports read it (the errno from the one ICMP/ICMPv6 table). */
  private errorReport(
    reporter: Ipv6Address,
    type: number,
    code: number,
    quoted: Ipv6Packet,
    upper: { protocol: number; bytes: Uint8Array },
    extra: { reportedMtu?: number; datagramLength?: number } = {},
  ): TransportErrorReport {
    return {
      code: icmpErrorMeaning(6, type, code)?.code ?? 'EHOSTUNREACH',
      origin: this.isLocalAddress(reporter) ? 'local' : 'icmp',
      icmpType: type,
      icmpCode: code,
      reporter,
      src: quoted.src,
      dst: quoted.dst,
      protocol: upper.protocol,
      transport: upper.bytes,
      ...extra,
    };
  }

  /**
   * Destination Unreachable, Time Exceeded or Parameter Problem about a packet we sent (RFC 4443 §2.4(b):
   * handed to the upper-layer protocol the quote names): a pending ping fails, or the transport hears it.
   */
  private receiveError(reporter: Ipv6Address, kind: string, code: number, original: Uint8Array): void {
    const quoted = parseQuotedIpv6(original);
    if (!quoted.ok || !this.isLocalAddress(quoted.value.src)) return;
    const upper = this.quotedUpperLayer(quoted.value);
    if (upper === undefined) return;
    if (upper.protocol !== IPV6_NEXT_ICMPV6) {
      const type =
        kind === 'destination-unreachable'
          ? ICMPV6_DESTINATION_UNREACHABLE
          : kind === 'time-exceeded'
            ? ICMPV6_TIME_EXCEEDED
            : ICMPV6_PARAMETER_PROBLEM;
      this.handlers
        .get(upper.protocol)
        ?.receiveError?.(this.errorReport(reporter, type, code, quoted.value, upper));
      return;
    }
    const icmp = upper.bytes;
    if (icmp.length < 8 || icmp[0] !== 128) return;
    const identifier = (icmp[4]! << 8) | icmp[5]!;
    const sequence = (icmp[6]! << 8) | icmp[7]!;
    const pending = identifier === this.pingIdentifier ? this.pings.get(sequence) : undefined;
    if (pending === undefined) return;
    this.pings.delete(sequence);
    pending.timer?.cancel();
    const errno =
      kind === 'destination-unreachable' && code === ICMPV6_NO_ROUTE
        ? 'ENETUNREACH'
        : kind === 'parameter-problem'
          ? 'EPROTO'
          : 'EHOSTUNREACH';
    pending.reject(
      errnoError(errno, `${kind} (code ${code}) from ${ipv6ToString(reporter)}`, {
        icmpType: kind,
        icmpCode: code,
        reporter: ipv6ToString(reporter),
      }),
    );
  }

  // ---------------------------------------------------------------------------------------------------
  // Forwarding (RFC 8200 §3, RFC 4443 §3)

  private forward(ingress: Ipv6Interface, packet: Ipv6Packet, datagram: Uint8Array): void {
    if (isIpv6LinkLocal(packet.src) || isIpv6LinkLocal(packet.dst)) {
      // RFC 4291 §2.5.6: link-local packets never leave their link.
      this.sendError(ingress, packet, datagram, ICMPV6_DESTINATION_UNREACHABLE, 2, 0);
      this.ctx.drop('ipv6', 'link-local-not-forwarded');
      return;
    }
    if (packet.hopLimit <= 1) {
      this.ctx.drop('ipv6', 'hop-limit-exceeded');
      this.sendError(ingress, packet, datagram, ICMPV6_TIME_EXCEEDED, ICMPV6_HOP_LIMIT_EXCEEDED, 0);
      return;
    }
    const route = this.route(packet.dst, undefined);
    if (route === undefined) {
      this.ctx.drop('ipv6', 'no-route');
      this.sendError(ingress, packet, datagram, ICMPV6_DESTINATION_UNREACHABLE, ICMPV6_NO_ROUTE, 0);
      return;
    }
    const mtu = route.iface.mtu;
    // A large (GSO) TCP packet from an offloading device stands for segments of `segmentSize` payload
    // bytes: those segments, not the packet, must fit the next link (Linux's ip6_forward checks the same
    // with skb_gso_validate_network_len).
    const tcpHeaderLength =
      packet.nextHeader === IPV6_NEXT_TCP && datagram.length >= IPV6_HEADER_LENGTH + 20
        ? tcpHeaderLengthAt(datagram, IPV6_HEADER_LENGTH)
        : 0;
    const gsoSegmentSize = tcpHeaderLength > 0 ? this.receivedSegmentSize : 0;
    const wireLength =
      gsoSegmentSize > 0
        ? Math.min(datagram.length, IPV6_HEADER_LENGTH + tcpHeaderLength + gsoSegmentSize)
        : datagram.length;
    if (wireLength > mtu) {
      // RFC 8200 §5: routers never fragment; the source hears the next link's MTU.
      this.ctx.drop('ipv6', 'packet-too-big');
      this.sendError(ingress, packet, datagram, ICMPV6_PACKET_TOO_BIG, 0, mtu, true);
      return;
    }
    const frame = allocateFrame(ETHERNET_HEADER_LENGTH + datagram.length);
    frame.set(datagram, ETHERNET_HEADER_LENGTH);
    const view = Ipv6View.fromBytes(frame.subarray(ETHERNET_HEADER_LENGTH));
    if (view.ok) view.value.decrementHopLimit();
    if (gsoSegmentSize > 0 && datagram.length - IPV6_HEADER_LENGTH - tcpHeaderLength > gsoSegmentSize) {
      // Cut into the segments it stands for (checksums computed in full, so a partial one is finished).
      const pieces = segmentTcpPacket(
        frame.subarray(ETHERNET_HEADER_LENGTH),
        gsoSegmentSize,
        ETHERNET_HEADER_LENGTH,
      );
      if (pieces === undefined) {
        this.ctx.drop('ipv6', 'cannot-segment');
        return;
      }
      for (const piece of pieces) this.transmit(route.iface, piece, route.nextHop, undefined);
      return;
    }
    // A checksum the ingress device left partial is finished before a link that carries real ones.
    if (this.checksumTrusted && route.iface.device.checksumOffload !== true)
      completeTransportChecksum6(frame.subarray(ETHERNET_HEADER_LENGTH), packet);
    this.transmit(route.iface, frame, route.nextHop, undefined);
  }

  /** Neighbor resolution failed: tell the local sender, or the remote source (address unreachable). */
  private resolutionFailed(iface: Ipv6Interface, frames: readonly Uint8Array[]): void {
    for (const frame of frames) {
      const bytes = frame.subarray(ETHERNET_HEADER_LENGTH);
      const packet = parseIpv6(bytes);
      if (!packet.ok) continue;
      if (this.isLocalAddress(packet.value.src)) {
        this.receiveErrorLocally(packet.value, bytes);
        continue;
      }
      this.sendError(
        iface,
        packet.value,
        bytes,
        ICMPV6_DESTINATION_UNREACHABLE,
        ICMPV6_ADDRESS_UNREACHABLE,
        0,
      );
    }
  }

  private receiveErrorLocally(packet: Ipv6Packet, bytes: Uint8Array): void {
    this.receiveError(packet.src, 'destination-unreachable', ICMPV6_ADDRESS_UNREACHABLE, bytes);
  }

  // ---------------------------------------------------------------------------------------------------
  // Ping

  /**
   * Sends one ICMPv6 echo request and resolves with the reply; rejects with ETIMEDOUT, with the errno of
   * an ICMPv6 error that came back (EHOSTUNREACH when neighbor resolution failed), or ENETUNREACH /
   * EADDRNOTAVAIL when it could not be sent.
   */
  ping(
    dst: Ipv6Address,
    options: { size?: number; timeoutMs?: number; hopLimit?: number } = {},
  ): Promise<Ping6Reply> {
    const size = options.size ?? 56;
    const timeoutMs = options.timeoutMs ?? 1000;
    if (!Number.isInteger(size) || size < 0 || size > 0xffff - 8 - IPV6_HEADER_LENGTH)
      return Promise.reject(errnoError('EINVAL', `ping size must be 0-65487, got ${size}`));
    const sequence = this.nextSequence;
    this.nextSequence = (this.nextSequence + 1) & 0xffff;
    const data = new Uint8Array(size);
    for (let i = 0; i < size; i++) data[i] = i & 0xff;
    return new Promise<Ping6Reply>((resolve, reject) => {
      const pending: PendingPing = { sentAt: this.ctx.clock.now(), resolve, reject, timer: undefined };
      this.pings.set(sequence, pending);
      const status = this.send(
        { dst, nextHeader: IPV6_NEXT_ICMPV6, hopLimit: options.hopLimit },
        new Icmpv6Writer({ kind: 'echo-request', identifier: this.pingIdentifier, sequence, data }),
      );
      if (status !== 'ok') {
        this.pings.delete(sequence);
        reject(errnoError(status, `cannot send echo request to ${ipv6ToString(dst)}`));
        return;
      }
      if (!this.pings.has(sequence)) return;
      pending.timer = this.ctx.clock.setTimer(timeoutMs, () => {
        this.pings.delete(sequence);
        reject(errnoError('ETIMEDOUT', `no echo reply from ${ipv6ToString(dst)} within ${timeoutMs} ms`));
      });
    });
  }

  close(): void {
    if (this.closed) return;
    for (const iface of [...this.ifaces]) this.removeInterface(iface);
    this.reassembler.clear();
    for (const [sequence, pending] of this.pings) {
      pending.timer?.cancel();
      pending.reject(errnoError('ECANCELED', `ping ${sequence} cancelled: the stack closed`));
    }
    this.pings.clear();
    this.listening.close();
    this.closed = true;
  }
}

/** 'fd00::2/64' -> address and prefix length; throws EINVAL. */
export function parseIpv6Prefix(text: string): { address: Ipv6Address; prefixLength: number } {
  const slash = text.lastIndexOf('/');
  const address = parseIpv6Text(slash < 0 ? text : text.slice(0, slash));
  const prefixLength = slash < 0 ? 128 : Number(text.slice(slash + 1));
  if (address === undefined || !Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > 128) {
    throw errnoError('EINVAL', `${text} is not an IPv6 address with a prefix length`);
  }
  return { address, prefixLength };
}

function commonPrefixLength(a: Ipv6Address, b: Ipv6Address): number {
  const x = a ^ b;
  return x === 0n ? 128 : 128 - x.toString(2).length;
}

/** True for text that names an IPv6 address (with or without a prefix length). */
export function looksLikeIpv6(text: string): boolean {
  return text.includes(':');
}

/**
 * Computes the TCP or UDP checksum of `packet` (an IPv6 packet whose transport header follows the fixed
 * header) in full, as a NIC completes CHECKSUM_PARTIAL; other packets are left as they are.
 */
function completeTransportChecksum6(bytes: Uint8Array, packet: Ipv6Packet): void {
  const { nextHeader, src, dst } = packet;
  const length = bytes.length - IPV6_HEADER_LENGTH;
  let field: number;
  if (nextHeader === IPV6_NEXT_TCP && length >= 20) field = IPV6_HEADER_LENGTH + TCP_CHECKSUM_OFFSET;
  else if (nextHeader === IPV6_NEXT_UDP && length >= 8) field = IPV6_HEADER_LENGTH + 6;
  else return;
  bytes[field] = 0;
  bytes[field + 1] = 0;
  let sum = checksumFinish(
    checksumAdd(pseudoHeaderSum(src, dst, nextHeader, length), bytes, IPV6_HEADER_LENGTH, length),
  );
  if (sum === 0 && nextHeader === IPV6_NEXT_UDP) sum = 0xffff; // RFC 8200 §8.1
  bytes[field] = sum >>> 8;
  bytes[field + 1] = sum & 0xff;
}
