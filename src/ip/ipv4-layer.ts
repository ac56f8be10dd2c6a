/**
 * The IPv4 layer (RFC 791, RFC 1122 §3.2-3.3): interfaces, addresses and routes. Its jobs live beside it:
 * output (route, source, fragmentation, link output through ARP) in ipv4-output.ts, input (validation,
 * local delivery, reassembly hand-off) in ipv4-input.ts, forwarding (RFC 1812) in ipv4-forwarding.ts,
 * work for offloading devices (TSO, checksum completion, and both done in software) in ipv4-offload.ts;
 * Ethernet framing is link/ethernet-layer.ts's, ARP the interfaces'.
 *
 * Send path: `send` picks the route, the source address and the next hop, allocates the frame once and
 * lets the transport write its header and payload straight into it (`PayloadWriter`), then fragments if
 * the datagram exceeds the path MTU and DF is clear, and hands the frame to ARP.
 *
 * Device offloads (a device with `offload`, such as a TAP with virtio-net headers): TCP and UDP leave their
 * checksums partial for the device to complete; a TCP segment larger than the MTU (`segmentSize`, TSO) goes
 * to the device as one frame, which cuts it into segments — or is cut in software (ipv4-offload.ts) when
 * the device cannot. Received frames whose checksum the device vouches for skip transport verification, and a
 * large (GSO) packet may exceed the MTU. Nothing changes for devices without `offload`.
 *
 * Nothing here reads a clock or starts a timer on its own: ARP retries, reassembly timeouts and loopback
 * delivery all go through the stack's Clock. Bad input is counted, traced and dropped, never thrown.
 */

import {
  FRAME_RELEASED,
  type FrameTransmitOptions,
  type NetworkDevice,
  type ReceivedFrameInfo,
} from '../link/device.js';
import { EthernetLayer } from '../link/ethernet-layer.js';
import { objectArray } from '../util/arrays.js';
import {
  IPV4_BROADCAST,
  type Ipv4Address,
  ipv4ToString,
  isMulticast,
  type MacAddress,
  prefixMask,
} from '../wire/address.js';
import { parseArp } from '../wire/arp.js';
import { ETHERTYPE_ARP, ETHERTYPE_IPV4 } from '../wire/ethernet.js';
import { IPV4_MAX_TOTAL_LENGTH, type Ipv4Header, newIpv4HeaderRecord } from '../wire/ipv4.js';
import { isLoopback, isUnicastHostAddress, type PrefixInput, toAddress, toPrefix } from './address-prefix.js';
import { type ArpOptions, ArpResolver } from './arp-resolver.js';
import type {
  IpProtocolHandler,
  IpSendOptions,
  IpSendStatus,
  PayloadWriter,
  ReceivedDatagram,
  TransportErrorReport,
} from './datagram.js';
import { errnoError } from './errors.js';
import type { IcmpLayer } from './icmp-layer.js';
import { IgmpHost } from './igmp-host.js';
import { IpInterface } from './ip-interface.js';
import { Ipv4IdGenerator } from './ipv4-id.js';
import { type Ipv4Receiver, receiveIpv4 } from './ipv4-input.js';
import {
  Ipv4Path,
  LOOPBACK_ADDRESS,
  reportResolutionFailure,
  sendIpv4,
  transmitFrame,
} from './ipv4-output.js';
import { LoopbackDevice } from './loopback-device.js';
import { PathMtuCache, type PathMtuOptions } from './path-mtu-cache.js';
import { Reassembler, type ReassemblyOptions } from './reassembly.js';
import { RoutingTable } from './routing-table.js';
import type { StackContext } from './stack-context.js';

export { multicastMac } from './ipv4-output.js';

/** RFC 1700 / RFC 1122 §3.2.1.7: the TTL we send with unless told otherwise (Linux's default too). */
export const DEFAULT_TTL = 64;

/** 224.0.0.1, all-systems: every host is a member (RFC 1112 §4). */
const ALL_SYSTEMS_GROUP = 0xe0000001;

export interface InterfaceConfig {
  /** 'a.b.c.d/prefix' or `{ address, prefixLength }`. */
  address: PrefixInput;
  /** Adds a default route through this gateway (which must be on the interface's subnet). */
  gateway?: string | Ipv4Address;
  /** Lowers the interface MTU below the device's. */
  mtu?: number;
  /** ARP tuning for this interface. */
  arp?: ArpOptions;
  /** Gateway mode: terminate datagrams for any destination, send from any source (IpInterface). */
  terminateAnyDestination?: boolean;
  /** Extra addresses this interface answers ARP requests for (IpInterface.proxyArp). */
  proxyArp?: (address: Ipv4Address) => boolean;
}

export interface Ipv4LayerOptions {
  defaultTtl?: number;
  reassembly?: ReassemblyOptions;
  pathMtu?: PathMtuOptions;
  /** ARP tuning applied to every interface (per-interface settings override it). */
  arp?: ArpOptions;
  /** The Ethernet layer shared with the stack's other network protocols; default: one of its own. */
  ethernet?: EthernetLayer;
}

export class Ipv4Layer implements Ipv4Receiver {
  readonly routes: RoutingTable;
  readonly pathMtu: PathMtuCache;
  readonly reassembler: Reassembler;
  /** The loopback interface (127.0.0.1/8); local traffic to any of our addresses goes through it. */
  readonly loopback: IpInterface;
  /** When true, datagrams for other hosts are forwarded between interfaces (RFC 1812). Default false. */
  forwarding = false;
  defaultTtl: number;
  /** Set by the stack: generates ICMP errors. */
  icmp!: IcmpLayer;
  /** Framing and EtherType demux of every device this layer uses (shared with IPv6). */
  readonly ethernet: EthernetLayer;

  private readonly ifaces: IpInterface[] = objectArray();
  private readonly handlers = new Map<number, IpProtocolHandler>();
  /** Groups this host receives and from which sources, reported by IGMPv3 (RFC 3376). */
  readonly igmp: IgmpHost;
  private readonly arpDefaults: ArpOptions;
  /** @internal Per-flow IPv4 identifications (ipv4-id.ts). */
  readonly ids: Ipv4IdGenerator;
  private nextIndex = 1;
  /**
   * @internal The header of the datagram `send` is building (ipv4-output.ts), refilled for each: every
   * path reads it only while writing the frames, before the first frame is transmitted (so a send made
   * from a device's transmit cannot disturb one in progress).
   */
  readonly outputHeader: Ipv4Header = newIpv4HeaderRecord();
  /** @internal The path of the last datagram `send` sent, reused for the next to the same place. */
  readonly lastPath = new Ipv4Path();
  /** Offload requests for the frame being handed to a device; devices read it during `send` only. @internal */
  readonly transmitOptions: FrameTransmitOptions = {
    checksumStart: 0,
    checksumOffset: 0,
    segmentSize: 0,
    headroom: 0,
  };

  constructor(
    /** @internal */
    readonly ctx: StackContext,
    options: Ipv4LayerOptions = {},
  ) {
    this.defaultTtl = options.defaultTtl ?? DEFAULT_TTL;
    this.arpDefaults = options.arp ?? {};
    this.routes = new RoutingTable(() => this.ifaces);
    this.pathMtu = new PathMtuCache(ctx.clock, options.pathMtu);
    this.igmp = new IgmpHost(ctx, this);
    this.reassembler = new Reassembler(
      ctx,
      (_src, quote) => this.icmp.sendReassemblyTimeout(quote),
      options.reassembly,
    );
    this.ids = new Ipv4IdGenerator(ctx.secret.derive('ipv4 id', 16));
    this.ethernet = options.ethernet ?? new EthernetLayer(ctx);
    const lo = new LoopbackDevice(ctx.clock);
    const loopback = new IpInterface(0, lo, LOOPBACK_ADDRESS, 8, lo.mtu);
    loopback.port = this.ethernet.portFor(lo, { loopback: true });
    loopback.port.register(ETHERTYPE_IPV4, (frame, offset, linkBroadcast, info) =>
      receiveIpv4(this, loopback, frame, offset, linkBroadcast, info),
    );
    this.loopback = loopback;
  }

  /** The configured interfaces (loopback excluded), in the order they were added. */
  get interfaces(): readonly IpInterface[] {
    return this.ifaces;
  }

  addInterface(device: NetworkDevice, config: InterfaceConfig): IpInterface {
    const { address, prefixLength } = toPrefix(config.address);
    const hostBits = ~prefixMask(prefixLength) >>> 0;
    const hostPart = (address & hostBits) >>> 0;
    // RFC 1122 §3.2.1.3: all-zeros and all-ones host parts name the network and its broadcast.
    if (!isUnicastHostAddress(address) || (prefixLength < 31 && (hostPart === 0 || hostPart === hostBits))) {
      throw errnoError('EINVAL', `${ipv4ToString(address)}/${prefixLength} cannot be an interface address`);
    }
    if (this.ifaces.some((i) => i.device === device)) {
      throw errnoError('EEXIST', `device ${device.name} already has an address`);
    }
    if (this.isLocalAddress(address))
      throw errnoError('EADDRINUSE', `${ipv4ToString(address)} is already ours`);
    const mtu = Math.min(device.mtu, config.mtu ?? device.mtu);
    if (!Number.isInteger(mtu) || mtu < 68)
      throw errnoError('EINVAL', `MTU must be an integer >= 68, got ${mtu}`);
    const iface = new IpInterface(this.nextIndex++, device, address, prefixLength, mtu);
    iface.terminateAnyDestination = config.terminateAnyDestination === true;
    iface.proxyArp = config.proxyArp;
    iface.port = this.ethernet.portFor(device);
    iface.arp = new ArpResolver(
      this.ctx,
      iface,
      (frame) => iface.port.sendFrame(frame),
      (_nextHop, frames) => reportResolutionFailure(this, frames),
      { ...this.arpDefaults, ...config.arp },
    );
    this.ifaces.push(iface);
    this.routes.addConnected(iface);
    if (config.gateway !== undefined) {
      try {
        this.routes.add({
          destination: 'default',
          gateway: toAddress(config.gateway, 'gateway'),
          interface: iface,
        });
      } catch (error) {
        this.removeInterface(iface);
        throw error;
      }
    }
    iface.port.register(ETHERTYPE_IPV4, (frame, offset, linkBroadcast, info) =>
      receiveIpv4(this, iface, frame, offset, linkBroadcast, info),
    );
    iface.port.register(ETHERTYPE_ARP, (frame, offset) => {
      // ARP reads numbers out of the packet and keeps none of its bytes.
      this.receiveArp(iface, frame.subarray(offset));
      return FRAME_RELEASED;
    });
    // RFC 5227 §2.3: announce the new address, so neighbours holding another MAC for it update. Sent
    // through the clock, after the caller has finished configuring (static entries, routes).
    if (config.arp?.announce ?? this.arpDefaults.announce ?? false) {
      this.ctx.clock.setTimer(0, () => {
        if (this.ifaces.includes(iface)) iface.arp.announce();
      });
    }
    return iface;
  }

  /** Takes an interface down: its routes, ARP entries and queued frames go; its device stops delivering. */
  removeInterface(iface: IpInterface): void {
    const i = this.ifaces.indexOf(iface);
    if (i < 0) return;
    this.ifaces.splice(i, 1);
    this.routes.removeInterface(iface);
    iface.arp.clear();
    iface.port.unregister(ETHERTYPE_IPV4);
    iface.port.unregister(ETHERTYPE_ARP);
    this.ethernet.release(iface.device);
  }

  registerProtocol(protocol: number, handler: IpProtocolHandler): void {
    if (!Number.isInteger(protocol) || protocol < 0 || protocol > 255) {
      throw errnoError('EINVAL', `IP protocol must be 0-255, got ${protocol}`);
    }
    if (this.handlers.has(protocol))
      throw errnoError('EADDRINUSE', `protocol ${protocol} already has a handler`);
    this.handlers.set(protocol, handler);
  }

  unregisterProtocol(protocol: number): void {
    this.handlers.delete(protocol);
  }

  /**
   * Joins multicast `group` for every source (IP_ADD_MEMBERSHIP), counted: each join needs a leave. The
   * change is reported by IGMPv3 (RFC 3376 §5.1). EINVAL for an address that is not multicast.
   */
  joinGroup(group: Ipv4Address): void {
    if (!isMulticast(group)) throw errnoError('EINVAL', `${ipv4ToString(group)} is not a multicast group`);
    this.igmp.memberships.join(group);
  }

  /** Undoes one `joinGroup` (224.0.0.1 stays joined: every host receives it). */
  leaveGroup(group: Ipv4Address): void {
    this.igmp.memberships.leave(group);
  }

  /**
   * Asks for `group` from `source` (IP_ADD_SOURCE_MEMBERSHIP, RFC 4607), counted: datagrams from other
   * sources are dropped unless some socket joined the group for every source.
   */
  addGroupSource(group: Ipv4Address, source: Ipv4Address): void {
    if (!isMulticast(group)) throw errnoError('EINVAL', `${ipv4ToString(group)} is not a multicast group`);
    this.igmp.memberships.addSource(group, source);
  }

  /** Undoes one `addGroupSource`. */
  dropGroupSource(group: Ipv4Address, source: Ipv4Address): void {
    this.igmp.memberships.dropSource(group, source);
  }

  /** True for the addresses of our interfaces and the loopback network 127.0.0.0/8. */
  isLocalAddress(address: Ipv4Address): boolean {
    if (isLoopback(address)) return true;
    for (const iface of this.ifaces) if (iface.address === address) return true;
    return false;
  }

  /** True for limited broadcast, any interface's directed broadcast, and multicast (RFC 9293 MUST-46/57). */
  isBroadcastOrMulticast(address: Ipv4Address): boolean {
    if (address === IPV4_BROADCAST || isMulticast(address)) return true;
    for (const iface of this.ifaces) if (iface.isDirectedBroadcast(address)) return true;
    return false;
  }

  /** The source address a datagram to `dst` would carry, or undefined when there is no route. */
  sourceAddressFor(dst: Ipv4Address): Ipv4Address | undefined {
    if (isLoopback(dst)) return LOOPBACK_ADDRESS;
    if (this.isLocalAddress(dst)) return dst;
    if (dst === IPV4_BROADCAST || isMulticast(dst)) {
      return (this.routes.lookup(dst)?.interface ?? this.ifaces[0])?.address;
    }
    return this.routes.lookup(dst)?.interface.address;
  }

  /**
   * Largest datagram that can be sent to `dst` unfragmented: the outgoing interface's MTU lowered by any
   * path MTU learned from ICMP (RFC 1191). 576 (RFC 1122 §3.3.3's safe size) when there is no route.
   */
  mtuFor(dst: Ipv4Address): number {
    if (this.isLocalAddress(dst)) return this.loopback.mtu;
    const route = this.routes.lookup(dst);
    const ifaceMtu = (
      route?.interface ?? (isMulticast(dst) || dst === IPV4_BROADCAST ? this.ifaces[0] : undefined)
    )?.mtu;
    if (ifaceMtu === undefined) return 576;
    return Math.min(ifaceMtu, this.pathMtu.get(dst) ?? ifaceMtu);
  }

  /**
   * Largest TCP datagram (IP header included) that may be handed to `send` toward `dst` as one segment
   * with `segmentSize`: up to 65535 when the outgoing device segments TCP itself (TSO), else `mtuFor(dst)`.
   */
  tsoSizeFor(dst: Ipv4Address): number {
    const mtu = this.mtuFor(dst);
    if (this.isLocalAddress(dst)) return mtu;
    const offload = this.routes.lookup(dst)?.interface.device.offload;
    if (offload === undefined || !offload.transmitChecksum) return mtu;
    return Math.max(mtu, Math.min(offload.tcpSegmentationMax, IPV4_MAX_TOTAL_LENGTH));
  }

  /**
   * Learns a lower path MTU toward `dst` from an ICMP "fragmentation needed" report (`reportedMtu`, see
   * TransportErrorReport) that a transport has matched to a flow of its own (RFC 5927 §4.1): IP never
   * learns from an unchecked report, so a forged one changes nothing. The MTU never goes below the floor
   * (`pathMtu.minimumMtu`, Linux's min_pmtu 552); a report below it is counted (PathMtuFloorClamps). Returns
   * the MTU now in effect toward `dst` (`mtuFor`).
   */
  learnPathMtu(dst: Ipv4Address, reportedMtu: number): number {
    if (Number.isFinite(reportedMtu) && reportedMtu > 0 && !this.isLocalAddress(dst)) {
      if (reportedMtu < this.pathMtu.minimumMtu) this.ctx.counters.PathMtuFloorClamps++;
      this.pathMtu.lower(dst, reportedMtu, this.interfaceMtuFor(dst));
    }
    return this.mtuFor(dst);
  }

  /**
   * Upper-layer confirmation (RFC 4861 §7.3.1): a transport saw `dst` make progress (TCP: an ACK of new
   * data), so the neighbour that is the next hop toward it is REACHABLE again, without ARP.
   */
  confirmNeighbour(dst: Ipv4Address): void {
    if (this.isLocalAddress(dst)) return;
    const route = this.routes.lookup(dst);
    if (route !== undefined) route.interface.arp.confirm(route.gateway ?? dst);
  }

  /** The MTU of the interface toward `dst`, ignoring learned path MTUs. */
  interfaceMtuFor(dst: Ipv4Address): number {
    if (this.isLocalAddress(dst)) return this.loopback.mtu;
    return this.routes.lookup(dst)?.interface.mtu ?? 576;
  }

  /**
   * Sends one datagram whose payload is `payload` (copied into the frame) or written in place by a
   * PayloadWriter (ipv4-output.ts). See IpSendStatus for the outcomes; this never throws for network
   * conditions.
   */
  send(options: IpSendOptions, payload: PayloadWriter | Uint8Array): IpSendStatus {
    return sendIpv4(this, options, payload);
  }

  /** Hands an error report to the protocol that sent the datagram it is about. */
  deliverError(report: TransportErrorReport): void {
    const handler = this.handlers.get(report.protocol);
    if (handler?.receiveError === undefined) {
      this.ctx.drop('icmp', 'error-for-unhandled-protocol');
      return;
    }
    handler.receiveError(report);
  }

  /** Stops every timer and forgets all state; devices deliver nothing afterwards. */
  close(): void {
    this.igmp.close();
    for (const iface of [...this.ifaces]) this.removeInterface(iface);
    this.reassembler.clear();
    this.pathMtu.clear();
    this.loopback.device.close?.();
  }

  // ---------------------------------------------------------------------------------------------------
  // Receive path

  /**
   * Entry point for a frame from `iface`'s device, as if the device had delivered it (the Ethernet layer
   * filters and demultiplexes it). `info`, from a device with offloads, may say that the transport
   * checksum is vouched for, and that the frame is a large (GSO) packet beyond the MTU.
   */
  receiveFrame(iface: IpInterface, frame: Uint8Array, info?: ReceivedFrameInfo): void {
    iface.port.receive(frame, info);
  }

  private receiveArp(iface: IpInterface, bytes: Uint8Array): void {
    const arp = parseArp(bytes);
    if (!arp.ok) {
      this.ctx.counters.ArpInErrors++;
      this.ctx.drop('arp', arp.error.kind);
      return;
    }
    iface.arp.receive(arp.value);
  }

  /** @internal A multicast group joined on this host. */
  isMember(group: Ipv4Address): boolean {
    return group === ALL_SYSTEMS_GROUP || this.igmp.memberships.isMember(group);
  }

  /**
   * An ICMP error about a datagram a transport received (UDP's port unreachable, RFC 1122 §4.1.3.1),
   * within ICMP's rate limit and RFC 1812 §4.3.2.7's rules; the counterpart of Ipv6Layer.sendErrorAbout,
   * so transports reach either version's ICMP the same way.
   */
  sendErrorAbout(datagram: ReceivedDatagram, type: number, code: number): void {
    this.icmp.sendError(type, code, datagram);
  }

  /** True when a datagram from `source` to `group` passes this host's source filter (RFC 3376 §3.2). */
  acceptsMulticast(group: Ipv4Address, source: Ipv4Address): boolean {
    return group === ALL_SYSTEMS_GROUP || this.igmp.memberships.accepts(group, source);
  }

  /** @internal The handler registered for an IP protocol number. */
  handlerFor(protocol: number): IpProtocolHandler | undefined {
    return this.handlers.get(protocol);
  }

  /** @internal The link output every job of the layer sends through (ipv4-output.ts). */
  transmit(
    iface: IpInterface,
    frame: Uint8Array,
    nextHop: Ipv4Address,
    mac: MacAddress | undefined,
    options?: FrameTransmitOptions,
  ): void {
    transmitFrame(this, iface, frame, nextHop, mac, options);
  }
}
